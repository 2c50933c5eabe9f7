// Plan rendering (see report.hpp).
#include "plan/report.hpp"

#include <cmath>
#include <algorithm>
#include <cstdio>

#include "core/error.hpp"

namespace weft::plan {

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string layout_line(const Layout& l, int64_t m) {
  return str("dp=", l.dp, " tp=", l.tp, " pp=", l.pp, " micro-batch=", l.micro_batch,
             " global-batch=", l.global_batch, " (m=", m, ") zero=", l.zero,
             " recompute=", recompute_name(l.recompute), " schedule=", schedule_name(l.schedule),
             l.schedule == Schedule::kInterleaved ? str(" virtual-stages=", l.virtual_stages) : std::string(),
             l.dp_overlap ? " dp-overlap" : "", " precision=", l.mixed ? "mixed" : "fp32");
}

nlohmann::json layout_json(const Layout& l) {
  return {{"dp", l.dp},
          {"tp", l.tp},
          {"pp", l.pp},
          {"micro_batch", l.micro_batch},
          {"global_batch", l.global_batch},
          {"zero", l.zero},
          {"recompute", recompute_name(l.recompute)},
          {"schedule", schedule_name(l.schedule)},
          {"virtual_stages", l.virtual_stages},
          {"dp_overlap", l.dp_overlap},
          {"mixed_precision", l.mixed},
          {"sequence_parallel", l.sequence_parallel}};
}

}  // namespace

std::string format_bytes(double b) {
  if (b >= 1e12) return fmt("%.2f TB", b / 1e12);
  if (b >= 1e9) return fmt("%.2f GB", b / 1e9);
  if (b >= 1e6) return fmt("%.2f MB", b / 1e6);
  return fmt("%.0f B", b);
}

std::string format_flops(double f) {
  if (f >= 1e12) return fmt("%.1f TFLOP/s", f / 1e12);
  return fmt("%.2f GFLOP/s", f / 1e9);
}

std::string format_usd(double usd) {
  if (usd >= 1e9) return fmt("$%.2fB", usd / 1e9);
  if (usd >= 1e6) return fmt("$%.2fM", usd / 1e6);
  if (usd >= 1e3) return fmt("$%.1fk", usd / 1e3);
  return fmt("$%.2f", usd);
}

std::string format_seconds(double s) {
  if (s >= 365.25 * 86400 * 2) return fmt("%.0f years", s / (365.25 * 86400));
  if (s >= 2 * 86400) return fmt("%.1f days", s / 86400);
  if (s >= 2 * 3600) return fmt("%.1f h", s / 3600);
  if (s >= 1) return fmt("%.2f s", s);
  if (s >= 1e-3) return fmt("%.2f ms", s * 1e3);
  return fmt("%.1f us", s * 1e6);
}

std::string report_text(const RunSpec& run, const MemoryReport& mem, const TimeReport& t) {
  const ModelSpec& md = run.model;
  const ClusterSpec& c = run.cluster;
  std::string o;
  o += str("model    ", md.name, ": layers=", md.layers, " hidden=", md.hidden, " heads=", md.heads,
           " vocab=", md.vocab, " seq=", md.seq, " params=", fmt("%.3g", model_params(md)), "\n");
  o += str("cluster  ", c.gpus, " x ", c.gpu.name, " (", format_flops(c.gpu.peak_tensor16),
           " 16-bit, ", format_flops(c.gpu.peak_fp32), " fp32, ", format_bytes(c.gpu.memory_bytes),
           "), ", c.gpus_per_node, "/node, intra ", c.intra.name, " ",
           fmt("%.3g", c.intra.bandwidth / 1e9), " GB/s ", format_seconds(c.intra.latency), ", inter ",
           c.inter.name, " ", fmt("%.3g", c.inter.bandwidth / 1e9), " GB/s ",
           format_seconds(c.inter.latency), " per GPU\n");
  o += str("layout   ", layout_line(run.layout, t.micro_batches), "\n");
  std::string given;
  if (run.given.basis != Utilization::kMath) {
    given = str(" (solved from ", run.given.basis == Utilization::kModelFlops ? "MFU " : "HFU ",
                fmt("%.3f", run.given.value), " end to end)");
  }
  o += str("tokens   ", fmt("%.3g", run.tokens), "   MFU (math) ", fmt("%.3f", run.mfu), given,
           "   price $", fmt("%.3f", c.price_per_gpu_hour), "/GPU-hour\n\n");
  o += "memory per GPU (busiest: first pipeline stage)\n";
  o += str("  parameters      ", format_bytes(mem.states.params), "\n");
  o += str("  gradients       ", format_bytes(mem.states.grads), "\n");
  o += str("  optimizer state ", format_bytes(mem.states.optimizer), "\n");
  o += str("  activations     ", format_bytes(mem.activations), "  (", mem.in_flight,
           " micro-batches in flight)\n");
  o += str("  total           ", format_bytes(mem.total), " of ", format_bytes(mem.usable),
           " usable -> ", mem.fits ? "fits" : "DOES NOT FIT", "\n\n");
  o += "compute\n";
  o += str("  FLOPs/iteration ", fmt("%.3e", t.flops_executed), " executed, ",
           fmt("%.3e", t.flops_model), " model (",
           run.flops_rule == FlopsRule::kSixND ? "6·N·D" : "Narayanan eq. 3", ")\n");
  o += str("  training FLOPs  ", fmt("%.3e", t.flops_model * t.steps), " model, 6·N·D = ",
           fmt("%.3e", flops_six_nd(md, run.tokens)), "\n");
  o += str("  per micro-batch compute ", format_seconds(t.mb_compute), ", tp comm ",
           format_seconds(t.mb_tp_comm), " [", t.tp_link, "], pp comm ", format_seconds(t.mb_pp_comm),
           " [", t.pp_link, "]\n");
  o += str("  per step: pipeline ", format_seconds(t.pipeline), " (bubble ",
           format_seconds(t.bubble), " = ", fmt("%.1f", 100 * t.bubble_fraction), "%), dp comm ",
           format_seconds(t.dp_comm), " [", t.dp_link, "]",
           t.dp_comm_hidden > 0 ? str(" (+", format_seconds(t.dp_comm_hidden), " hidden)") : std::string(),
           t.embedding_comm > 0 ? str(", embedding all-reduce ", format_seconds(t.embedding_comm)) : std::string(),
           ", optimizer ", format_seconds(t.optimizer), "\n");
  o += str("  step time ", format_seconds(t.step), "   ", format_flops(t.tflops_per_gpu),
           " per GPU executed, MFU achieved ", fmt("%.3f", t.mfu_achieved), ", HFU ",
           fmt("%.3f", t.hfu_achieved), "\n\n");
  o += str("total    ", fmt("%.3g", t.steps), " steps, ", format_seconds(t.seconds), " (",
           fmt("%.1f", t.days), " days), ", fmt("%.4g", t.gpu_hours), " GPU-hours, ",
           c.price_per_gpu_hour > 0 ? format_usd(t.cost) : std::string("cost: set --price"),
           "\n");
  return o;
}

nlohmann::json report_json(const RunSpec& run, const MemoryReport& mem, const TimeReport& t) {
  const ModelSpec& md = run.model;
  const ClusterSpec& c = run.cluster;
  return {
      {"model", {{"name", md.name}, {"layers", md.layers}, {"hidden", md.hidden}, {"heads", md.heads},
                 {"vocab", md.vocab}, {"seq", md.seq}, {"params", model_params(md)}}},
      {"cluster", {{"gpu", c.gpu.name}, {"gpus", c.gpus}, {"gpus_per_node", c.gpus_per_node},
                   {"peak_flops", t.peak}, {"memory_bytes", c.gpu.memory_bytes},
                   {"intra", c.intra.name}, {"inter", c.inter.name},
                   {"price_per_gpu_hour", c.price_per_gpu_hour}}},
      {"layout", layout_json(run.layout)},
      {"tokens", run.tokens},
      {"mfu", run.mfu},
      {"given_utilization",
       {{"basis", utilization_name(run.given.basis)},
        {"value", run.given.basis == Utilization::kMath ? run.mfu : run.given.value}}},
      {"flops_rule", run.flops_rule == FlopsRule::kSixND ? "6nd" : "narayanan"},
      {"memory", {{"params_bytes", mem.states.params}, {"grads_bytes", mem.states.grads},
                  {"optimizer_bytes", mem.states.optimizer}, {"activations_bytes", mem.activations},
                  {"in_flight_micro_batches", mem.in_flight}, {"total_bytes", mem.total},
                  {"usable_bytes", mem.usable}, {"fits", mem.fits}}},
      {"time", {{"flops_per_iteration_model", t.flops_model},
                {"flops_per_iteration_executed", t.flops_executed},
                {"training_flops_model", t.flops_model * t.steps},
                {"training_flops_6nd", flops_six_nd(md, run.tokens)},
                {"micro_batches", t.micro_batches},
                {"micro_batch_compute_s", t.mb_compute},
                {"micro_batch_tp_comm_s", t.mb_tp_comm},
                {"micro_batch_pp_comm_s", t.mb_pp_comm},
                {"pipeline_s", t.pipeline}, {"bubble_s", t.bubble},
                {"bubble_fraction", t.bubble_fraction}, {"dp_comm_s", t.dp_comm},
                {"dp_comm_hidden_s", t.dp_comm_hidden}, {"embedding_comm_s", t.embedding_comm},
                {"optimizer_s", t.optimizer}, {"step_s", t.step}, {"steps", t.steps},
                {"total_s", t.seconds}, {"days", t.days}, {"gpu_hours", t.gpu_hours},
                {"cost_usd", t.cost}, {"tflops_per_gpu", t.tflops_per_gpu / 1e12},
                {"mfu_achieved", t.mfu_achieved}, {"hfu_achieved", t.hfu_achieved}, {"tp_link", t.tp_link},
                {"pp_link", t.pp_link}, {"dp_link", t.dp_link}}},
  };
}

std::string search_text(const RunSpec& base, const SearchResult& r, int top) {
  std::string o = str("search: ", base.model.name, " on ", base.cluster.gpus, " x ",
                      base.cluster.gpu.name, ", global batch ", base.layout.global_batch, ": ",
                      r.fitting.size(), " of ", r.considered, " layouts fit in memory\n");
  if (r.fitting.empty()) return o + "no layout fits: use more GPUs, a GPU with more memory or a smaller batch\n";
  o += " rank   dp   tp   pp  mb  zero recompute   mem/GPU     step      days    TFLOP/s  bubble      cost\n";
  const int n = std::min<int>(top, static_cast<int>(r.fitting.size()));
  for (int i = 0; i < n; ++i) {
    const auto& c = r.fitting[static_cast<size_t>(i)];
    char line[256];
    const std::string cost = base.cluster.price_per_gpu_hour > 0 ? format_usd(c.time.cost) : "-";
    std::snprintf(line, sizeof line, "%5d %4d %4d %4d %3lld %5d %-10s %10s %10s %8.1f %8.1f %6.1f%% %9s\n",
                  i + 1, c.layout.dp, c.layout.tp, c.layout.pp,
                  static_cast<long long>(c.layout.micro_batch), c.layout.zero,
                  recompute_name(c.layout.recompute).c_str(), format_bytes(c.memory.total).c_str(),
                  format_seconds(c.time.step).c_str(), c.time.days, c.time.tflops_per_gpu / 1e12,
                  100 * c.time.bubble_fraction, cost.c_str());
    o += line;
  }
  return o;
}

nlohmann::json search_json(const RunSpec& base, const SearchResult& r, int top) {
  nlohmann::json list = nlohmann::json::array();
  const int n = std::min<int>(top, static_cast<int>(r.fitting.size()));
  for (int i = 0; i < n; ++i) {
    const auto& c = r.fitting[static_cast<size_t>(i)];
    RunSpec run = base;
    run.layout = c.layout;
    list.push_back(report_json(run, c.memory, c.time));
  }
  return {{"considered", r.considered}, {"fitting", r.fitting.size()}, {"layouts", list}};
}

}  // namespace weft::plan
