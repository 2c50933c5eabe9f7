// Human-readable report of `weft bench parallel`: a table per scenario, then the
// recommendation. Writes to the given stream; call from one thread.
#include <cstdio>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "sys/parallel_bench/parallel_bench.hpp"
#include "sys/parallel_bench/workers.hpp"

namespace weft::sys::pbench {
namespace {

using Row = std::vector<std::string>;

std::string fmt(double v, int precision) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", precision, v);
  return buf;
}

std::string size_name(std::size_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return str(bytes >> 20, " MiB");
  if (bytes >= 1024 && bytes % 1024 == 0) return str(bytes >> 10, " KiB");
  return str(bytes, " B");
}

// Prints rows under a header; align[i] is 'L' or 'R' for column i (default 'R').
void print_table(std::FILE* out, const Row& header, const std::vector<Row>& rows, const std::string& align) {
  std::vector<std::size_t> width(header.size(), 0);
  auto widen = [&](const Row& r) {
    for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  };
  widen(header);
  for (const auto& r : rows) widen(r);
  auto line = [&](const Row& r) {
    std::string s = " ";
    for (std::size_t i = 0; i < r.size(); ++i) {
      const std::string pad(width[i] - r[i].size(), ' ');
      const bool left = i < align.size() && align[i] == 'L';
      s += "  " + (left ? r[i] + (i + 1 < r.size() ? pad : "") : pad + r[i]);
    }
    std::fprintf(out, "%s\n", s.c_str());
  };
  line(header);
  for (const auto& r : rows) line(r);
}

void print_startup(const StartupResult& s, std::FILE* out) {
  std::fprintf(out, "\n[1] start-up: spawn+join of empty threads vs fork+waitpid of empty children "
                    "(median of %d; parent RSS %zu MiB)\n", s.repeats, s.parent_rss_bytes >> 20);
  std::vector<Row> rows;
  for (const auto& r : s.rows)
    rows.push_back({str(r.workers), fmt(r.thread_us, 1), fmt(r.process_us, 1),
                    fmt(r.process_us / std::max(r.thread_us, 1e-9), 1) + "x"});
  print_table(out, {"workers", "threads us", "processes us", "processes/threads"}, rows, "");
}

void print_cpu(const CpuResult& c, std::FILE* out) {
  std::fprintf(out, "\n[2] CPU-bound scaling: %.1f M items x %u LCG steps split over the workers; "
                    "checksum %016llx checked against the closed form (median of %d)\n",
               static_cast<double>(c.items) / 1e6, c.steps, static_cast<unsigned long long>(c.checksum), c.repeats);
  std::vector<Row> rows;
  for (const auto& r : c.rows)
    rows.push_back({str(r.workers), fmt(r.threads.seconds, 3), fmt(r.threads.speedup, 2) + "x",
                    fmt(100 * r.threads.efficiency, 0) + "%", fmt(r.processes.seconds, 3),
                    fmt(r.processes.speedup, 2) + "x", fmt(100 * r.processes.efficiency, 0) + "%"});
  print_table(out, {"workers", "threads s", "speed-up", "eff.", "processes s", "speed-up", "eff."}, rows, "");
}

void print_memory(const MemoryResult& m, std::FILE* out) {
  std::fprintf(out, "\n[3] memory bandwidth: triad a = b + 3c over 3 arrays of %s (L3 %s), every element "
                    "checked (median of %d; 24 bytes per element)\n",
               size_name(m.array_bytes).c_str(), m.l3_bytes ? size_name(m.l3_bytes).c_str() : "unknown",
               m.repeats);
  if (m.l3_bytes > 0 && 3 * m.array_bytes < 2 * m.l3_bytes)
    std::fprintf(out, "  note: the working set (3 x %s) is not well above L3 here; run without --quick\n",
                 size_name(m.array_bytes).c_str());
  std::vector<Row> rows;
  for (const auto& r : m.rows)
    rows.push_back({str(r.workers), fmt(r.thread_gbps, 2), fmt(r.process_gbps, 2)});
  print_table(out, {"workers", "threads GB/s", "processes GB/s"}, rows, "");
}

void print_sharing(const SharingResult& s, std::FILE* out) {
  std::fprintf(out, "\n[4] sharing data: one worker hands %s to another, which checks every byte "
                    "(median of %d)\n", size_name(s.bytes).c_str(), s.repeats);
  double base = 0;
  for (const auto& r : s.rows)
    if (r.transport == "thread_memcpy") base = r.gbps;
  std::vector<Row> rows;
  std::vector<std::string> skipped;
  for (const auto& r : s.rows) {
    if (!r.available) {
      skipped.push_back(str("  ", r.transport, ": skipped, ", r.note));
      continue;
    }
    rows.push_back({r.transport, r.between, fmt(r.gbps, 2), fmt(r.ms, 1),
                    base > 0 ? fmt(100 * r.gbps / base, 0) + "%" : "-", r.note});
  }
  print_table(out, {"transport", "between", "GB/s", "ms", "vs threads", "note"}, rows, "LLRRRL");
  for (const auto& line : skipped) std::fprintf(out, "%s\n", line.c_str());
}

void print_latency(const LatencyResult& l, std::FILE* out) {
  std::fprintf(out, "\n[5] ping-pong: one-way time per message (us) and bandwidth (GB/s); "
                    "payloads checked both ways first\n");
  Row header = {"transport", "between"};
  std::vector<std::size_t> sizes;
  for (const auto& r : l.rows)
    if (r.available) {
      for (const auto& p : r.points) sizes.push_back(p.bytes);
      break;
    }
  for (std::size_t i = 0; i < sizes.size(); ++i)
    header.push_back(i == 0 ? size_name(sizes[i]) + " us" : size_name(sizes[i]) + " us | GB/s");
  std::vector<Row> rows;
  std::vector<std::string> skipped;
  for (const auto& r : l.rows) {
    Row row = {r.transport, r.between};
    if (!r.available) {
      skipped.push_back(str("  ", r.transport, ": skipped, ", r.note));
      continue;
    }
    for (std::size_t i = 0; i < r.points.size(); ++i) {
      const auto& p = r.points[i];
      row.push_back(i == 0 ? fmt(p.one_way_us, 2) : fmt(p.one_way_us, 1) + " | " + fmt(p.gbps, 2));
    }
    rows.push_back(row);
  }
  print_table(out, header, rows, "LL");
  for (const auto& line : skipped) std::fprintf(out, "%s\n", line.c_str());
}

void print_crash(const CrashResult& c, std::FILE* out) {
  std::fprintf(out, "\n[6] crash isolation: one worker writes to a PROT_NONE page (a real SIGSEGV)\n");
  const ThreadPoolCrash& t = c.thread_pool;
  std::fprintf(out, "  threads:   pool of %d threads in a child process, thread %d faults\n", t.workers,
               t.crashing_worker);
  WorkerOutcome child;
  child.signaled = t.child_signaled;
  child.signal = t.child_signal;
  child.exit_code = t.child_exit_code;
  std::fprintf(out, "             child process: %s; pool results delivered: %s; "
                    "other threads finished before it died: %d of %d\n",
               child.describe().c_str(), t.results_delivered ? "yes" : "no", t.others_finished, t.workers - 1);
  const ProcessPoolCrash& p = c.process_pool;
  std::fprintf(out, "  processes: pool of %d forked workers, worker %d faults\n", p.workers, p.crashing_worker);
  for (const auto& w : p.outcomes) {
    WorkerOutcome o;
    o.signaled = w.signaled;
    o.signal = w.signal;
    o.exit_code = w.exit_code;
    std::fprintf(out, "             worker %d: %s%s\n", w.index, o.describe().c_str(),
                 w.result_ok ? ", result verified" : (w.signaled ? "" : ", result WRONG"));
  }
  std::fprintf(out, "             parent: %d worker killed by SIGSEGV, %d of %d results complete and verified\n",
               p.killed_by_sigsegv, p.completed_ok, p.workers - 1);
}

}  // namespace

void print_report(const Report& r, std::FILE* out) {
  std::fprintf(out, "weft bench parallel: threads or processes? (workers 1..%d, %d logical CPUs, %s run)\n",
               r.options.max_workers, r.logical_cpus, r.options.quick ? "quick" : "full");
  print_startup(r.startup, out);
  print_cpu(r.cpu, out);
  print_memory(r.memory, out);
  print_sharing(r.sharing, out);
  print_latency(r.latency, out);
  print_crash(r.crash, out);
  std::fprintf(out, "\nRecommendation\n");
  for (const auto& rec : r.recommendations)
    std::fprintf(out, "  %-8s %-9s %s\n", rec.topic.c_str(), rec.choice.c_str(), rec.text.c_str());
  std::string phases;
  for (const auto& [key, seconds] : r.scenario_seconds) phases += str(phases.empty() ? "" : ", ", key, " ", fmt(seconds, 1));
  std::fprintf(out, "\n(%.1f s wall, %.1f s CPU; per scenario: %s. Timings are medians and depend on what\n"
                    " else runs on this machine: compare runs made under the same load.)\n",
               r.wall_s, r.cpu_time_s, phases.c_str());
}

}  // namespace weft::sys::pbench
