// Printing of local predictions and rates (see local_report.hpp).
#include "plan/local_report.hpp"

#include <cstdio>
#include <sstream>

namespace weft::plan {

namespace {

std::string fmt(const char* f, double a, double b = 0, double c = 0, double d = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, a, b, c, d);
  return buf;
}

nlohmann::json stages_json(const LocalStepReport& r) {
  nlohmann::json s = nlohmann::json::array();
  for (const StageTime& t : r.stages)
    s.push_back({{"gemm_s", t.gemm_s}, {"attention_s", t.attention_s}, {"memory_s", t.memory_s},
                 {"tp_comm_s", t.tp_comm_s}, {"pp_comm_s", t.pp_comm_s},
                 {"zero_gather_s", t.zero_gather_s},
                 {"micro_batch_s", t.micro_batch_s}, {"optimizer_s", t.optimizer_s}});
  return s;
}

}  // namespace

std::string local_rates_text(const Rates& r) {
  std::ostringstream o;
  o << "sgemm (m n k op threads concurrency: GFLOP/s wall, per CPU-second):\n";
  for (const GemmRate& e : r.compute.gemm) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "  %6lld %6lld %6lld %s %d %d: %7.1f %7.1f\n",
                  static_cast<long long>(e.m), static_cast<long long>(e.n),
                  static_cast<long long>(e.k), e.op.c_str(), e.threads, e.concurrency, e.gflops,
                  e.gflops_cpu);
    o << buf;
  }
  o << "memory-bound kernels (kind floats threads concurrency: GB/s wall, per CPU-second):\n";
  for (const KernelRate& e : r.compute.kernels) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "  %-10s %10lld %d %d: %6.2f %6.2f\n", e.kind.c_str(),
                  static_cast<long long>(e.elems), e.threads, e.concurrency, e.gbs, e.gbs_cpu);
    o << buf;
  }
  const LinkSpec l = rates_link(r, false);
  o << "local ranks (" << l.name << "): alpha " << fmt("%.2f", l.latency * 1e6) << " us, beta "
    << fmt("%.2f", l.bandwidth / 1e9) << " GB/s\n";
  return o.str();
}

std::string local_report_text(const LocalRun& run, const LocalStepReport& w,
                              const LocalStepReport& c) {
  std::ostringstream o;
  o << "predicted weft step on " << local_ranks(run) << " local rank(s) × "
    << run.threads_per_rank << " thread(s): " << run.model.name << ", dp " << run.dp << " tp "
    << run.tp << " pp " << run.pp << ", B " << run.global_batch << " = " << w.micro_batches
    << " micro-batch(es) of " << run.micro_batch << " × T " << run.model.seq << "\n";
  o << "  stage  gemm_s  attn_s  memory_s  tp_s   pp_s   zero3_s  per micro-batch  optimizer_s\n";
  for (std::size_t i = 0; i < w.stages.size(); ++i) {
    const StageTime& t = w.stages[i];
    o << "  " << i << fmt("      %.3f   %.3f   %.3f", t.gemm_s, t.attention_s, t.memory_s)
      << fmt("     %.3f  %.3f  %.3f  ", t.tp_comm_s, t.pp_comm_s, t.zero_gather_s)
      << fmt("  %.3f           %.3f\n", t.micro_batch_s, t.optimizer_s);
  }
  o << fmt("  pipeline %.3f s + wte sync %.3f s + dp messages %.3f s", w.pipeline_s, w.wte_sync_s,
           w.dp_comm_s)
    << fmt(" (ZeRO-%.0f, %.1f MB per step) + optimizer %.3f s\n", run.zero, w.dp_bytes / 1e6,
           w.optimizer_s);
  o << fmt("  step %.3f s wall (%.1f GFLOP of sgemm); CPU clock: %.3f CPU-s per step\n", w.step_s,
           w.flops / 1e9, c.cpu_s);
  o << "  links: " << w.link << "\n";
  return o.str();
}

nlohmann::json local_report_json(const LocalRun& run, const LocalStepReport& w,
                                 const LocalStepReport& c) {
  nlohmann::json j;
  j["run"] = {{"model", run.model.name},       {"layers", run.model.layers},
              {"hidden", run.model.hidden},    {"heads", run.model.heads},
              {"vocab", run.model.vocab},      {"seq", run.model.seq},
              {"dp", run.dp},                  {"tp", run.tp},
              {"pp", run.pp},                  {"micro_batch", run.micro_batch},
              {"global_batch", run.global_batch}, {"micro_batches", w.micro_batches},
              {"threads_per_rank", run.threads_per_rank}, {"ranks", local_ranks(run)}};
  j["step_s"] = w.step_s;
  j["cpu_s"] = c.cpu_s;
  j["pipeline_s"] = w.pipeline_s;
  j["wte_sync_s"] = w.wte_sync_s;
  j["dp_comm_s"] = w.dp_comm_s;
  j["dp_bytes"] = w.dp_bytes;
  j["zero"] = run.zero;
  j["optimizer_s"] = w.optimizer_s;
  j["flops"] = w.flops;
  j["link"] = w.link;
  j["stages"] = stages_json(w);
  j["cpu"] = {{"step_s", c.step_s}, {"stages", stages_json(c)}};
  return j;
}

}  // namespace weft::plan
