// JSON form of the `weft bench parallel` report. Keys are stable (schema
// "weft.bench.parallel/1", documented in docs/bench_parallel.md); add, never rename.
#include <nlohmann/json.hpp>

#include "sys/parallel_bench/parallel_bench.hpp"

namespace weft::sys::pbench {

nlohmann::json report_to_json(const Report& r) {
  using nlohmann::json;
  json j;
  j["schema"] = "weft.bench.parallel/1";
  j["machine"] = {{"logical_cpus", r.logical_cpus}};
  j["options"] = {{"max_workers", r.options.max_workers}, {"quick", r.options.quick}};
  j["wall_s"] = r.wall_s;
  j["cpu_time_s"] = r.cpu_time_s;
  json phases = json::object();
  for (const auto& [key, seconds] : r.scenario_seconds) phases[key] = seconds;
  j["scenario_seconds"] = phases;

  json startup = json::array();
  for (const auto& row : r.startup.rows)
    startup.push_back({{"workers", row.workers}, {"thread_us", row.thread_us}, {"process_us", row.process_us}});
  j["startup"] = {{"repeats", r.startup.repeats}, {"parent_rss_bytes", r.startup.parent_rss_bytes},
                  {"rows", startup}};

  json cpu = json::array();
  auto cell = [](const ScalingCell& c) {
    return json{{"seconds", c.seconds}, {"speedup", c.speedup}, {"efficiency", c.efficiency}};
  };
  for (const auto& row : r.cpu.rows)
    cpu.push_back({{"workers", row.workers}, {"threads", cell(row.threads)}, {"processes", cell(row.processes)}});
  j["cpu"] = {{"items", r.cpu.items},       {"steps", r.cpu.steps}, {"checksum", r.cpu.checksum},
              {"checked", true},            {"repeats", r.cpu.repeats}, {"rows", cpu}};

  json mem = json::array();
  for (const auto& row : r.memory.rows)
    mem.push_back({{"workers", row.workers}, {"thread_gbps", row.thread_gbps}, {"process_gbps", row.process_gbps}});
  j["memory"] = {{"array_bytes", r.memory.array_bytes}, {"l3_bytes", r.memory.l3_bytes},
                 {"repeats", r.memory.repeats}, {"checked", true}, {"rows", mem}};

  json share = json::array();
  for (const auto& row : r.sharing.rows)
    share.push_back({{"transport", row.transport}, {"between", row.between}, {"available", row.available},
                     {"note", row.note}, {"gbps", row.gbps}, {"ms", row.ms}, {"verified", row.verified}});
  j["sharing"] = {{"bytes", r.sharing.bytes}, {"repeats", r.sharing.repeats}, {"rows", share}};

  json lat = json::array();
  for (const auto& row : r.latency.rows) {
    json points = json::array();
    for (const auto& p : row.points)
      points.push_back({{"bytes", p.bytes}, {"one_way_us", p.one_way_us}, {"gbps", p.gbps},
                        {"round_trips", p.round_trips}});
    lat.push_back({{"transport", row.transport}, {"between", row.between}, {"available", row.available},
                   {"note", row.note}, {"verified", row.verified}, {"points", points}});
  }
  j["latency"] = {{"rows", lat}};

  const ThreadPoolCrash& t = r.crash.thread_pool;
  json workers = json::array();
  for (const auto& w : r.crash.process_pool.outcomes)
    workers.push_back({{"index", w.index}, {"signaled", w.signaled}, {"signal", w.signal},
                       {"exit_code", w.exit_code}, {"result_ok", w.result_ok}});
  j["crash"] = {
      {"thread_pool",
       {{"workers", t.workers}, {"crashing_worker", t.crashing_worker}, {"child_signaled", t.child_signaled},
        {"child_signal", t.child_signal}, {"child_exit_code", t.child_exit_code},
        {"results_delivered", t.results_delivered}, {"others_finished", t.others_finished}}},
      {"process_pool",
       {{"workers", r.crash.process_pool.workers}, {"crashing_worker", r.crash.process_pool.crashing_worker},
        {"killed_by_sigsegv", r.crash.process_pool.killed_by_sigsegv},
        {"completed_ok", r.crash.process_pool.completed_ok}, {"outcomes", workers}}}};

  json rec = json::array();
  for (const auto& x : r.recommendations) rec.push_back({{"topic", x.topic}, {"choice", x.choice}, {"text", x.text}});
  j["recommendation"] = rec;
  return j;
}

}  // namespace weft::sys::pbench
