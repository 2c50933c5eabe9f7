// `weft plan`: memory, time and cost of a training run on a GPU cluster, a layout
// search, pipeline timeline pictures, and this machine's measured rates (--calibrate).
// Parsing only: the model lives in src/plan/.
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/command_registry.hpp"
#include "core/error.hpp"
#include "kernels/cpu/threads.hpp"
#include "plan/calibrate.hpp"
#include "plan/local_report.hpp"
#include "plan/report.hpp"
#include "plan/timeline.hpp"
#include "plan/achieved_efficiency.hpp"

namespace {

using namespace weft;
using namespace weft::plan;

struct PlanArgs {
  std::string preset = "gpt2-124m";
  int64_t layers = 0, hidden = 0, heads = 0, vocab = 0, seq = 0;
  double tokens = 10e9;
  std::string gpu = "a100-80gb";
  int gpus = 1, gpus_per_node = 8, nics_per_node = 0;
  std::string intra, inter;
  double intra_bw_gbs = 0, inter_bw_gbs = 0, intra_lat_us = -1, inter_lat_us = -1;
  int dp = 0, tp = 1, pp = 1, zero = 0;
  std::string zero_release = "grads";  // local runs: as weft train --zero-release
  int64_t micro_batch = 1, global_batch = 512;
  std::string recompute = "none", schedule = "1f1b", flops_rule = "narayanan";
  bool fp32 = false, no_sp = false, dp_overlap = false;
  int virtual_stages = 0;  // 0: 1, or 2 with --schedule interleaved
  double mfu = 0.4, tflops = 0, price = 0, mem_usable = 0.9;
  double achieved_mfu = 0, achieved_hfu = 0;  // end to end; weft solves the math efficiency
  bool search = false, json = false, calibrate = false, list = false;
  std::string rates, save_rates;  // --rates IN, --save-rates OUT
  int rank_threads = 0, repeats = 5;
  int top = 10;
  std::string timeline;
};

std::string default_intra(const std::string& gpu) {
  if (gpu == "v100") return "nvlink2";
  if (gpu.rfind("a100", 0) == 0) return "nvlink3";
  if (gpu == "h100" || gpu == "h200") return "nvlink4";
  return "pcie4";
}

std::string default_inter(const std::string& gpu) {
  if (gpu == "h100" || gpu == "h200") return "ib-ndr";
  if (gpu.rfind("rtx", 0) == 0) return "eth-25g";
  return "ib-hdr";
}

RunSpec build_run(const PlanArgs& a) {
  RunSpec run;
  run.model = model_preset(a.preset);
  if (a.layers || a.hidden || a.heads || a.vocab || a.seq) run.model.name = a.preset + "+custom";
  if (a.layers) run.model.layers = a.layers;
  if (a.hidden) run.model.hidden = a.hidden;
  if (a.heads) run.model.heads = a.heads;
  if (a.vocab) run.model.vocab = a.vocab;
  if (a.seq) run.model.seq = a.seq;

  ClusterSpec& c = run.cluster;
  c.gpu = gpu_lookup(a.gpu);
  c.gpus = a.gpus;
  c.gpus_per_node = a.gpus_per_node;
  c.intra = link_lookup(a.intra.empty() ? default_intra(a.gpu) : a.intra);
  c.inter = link_lookup(a.inter.empty() ? default_inter(a.gpu) : a.inter);
  if (a.nics_per_node < 0) throw input_error("--nics-per-node must be >= 0");
  if (a.nics_per_node > 0) {  // per-GPU share of the node's NICs (default: one NIC per GPU)
    c.inter.bandwidth *= static_cast<double>(a.nics_per_node) / a.gpus_per_node;
  }
  if (a.intra_bw_gbs > 0) c.intra.bandwidth = a.intra_bw_gbs * 1e9;
  if (a.inter_bw_gbs > 0) c.inter.bandwidth = a.inter_bw_gbs * 1e9;
  if (a.intra_lat_us >= 0) c.intra.latency = a.intra_lat_us * 1e-6;
  if (a.inter_lat_us >= 0) c.inter.latency = a.inter_lat_us * 1e-6;
  c.price_per_gpu_hour = a.price;

  Layout& l = run.layout;
  l.tp = a.tp;
  l.pp = a.pp;
  if (a.tp <= 0 || a.pp <= 0) throw config_error("--tp and --pp must be positive");
  l.dp = a.dp > 0 ? a.dp : std::max(1, a.gpus / (a.tp * a.pp));
  l.micro_batch = a.micro_batch;
  l.global_batch = a.global_batch;
  l.zero = a.zero;
  l.recompute = recompute_parse(a.recompute);
  l.schedule = schedule_parse(a.schedule);
  if (a.virtual_stages < 0) throw input_error("--virtual-stages must be positive");
  l.virtual_stages = a.virtual_stages > 0 ? a.virtual_stages : (l.schedule == Schedule::kInterleaved ? 2 : 1);
  l.dp_overlap = a.dp_overlap;
  l.mixed = !a.fp32;
  l.sequence_parallel = !a.no_sp;

  run.tokens = a.tokens;
  if (a.flops_rule == "6nd") {
    run.flops_rule = FlopsRule::kSixND;
  } else if (a.flops_rule != "narayanan") {
    throw input_error(str("--flops: unknown rule '", a.flops_rule, "'"), "use narayanan or 6nd");
  }
  const double peak = l.mixed ? c.gpu.peak_tensor16 : c.gpu.peak_fp32;
  run.mfu = a.tflops > 0 ? a.tflops * 1e12 / peak : a.mfu;
  if (a.achieved_mfu > 0 && a.achieved_hfu > 0) {
    throw input_error("--achieved-mfu and --achieved-hfu both given", "give one end-to-end figure");
  }
  if (a.achieved_mfu != 0 || a.achieved_hfu != 0) {
    run.given.basis = a.achieved_mfu != 0 ? Utilization::kModelFlops : Utilization::kHardwareFlops;
    run.given.value = a.achieved_mfu != 0 ? a.achieved_mfu : a.achieved_hfu;
    if (!(run.given.value > 0 && run.given.value <= 1)) {
      throw input_error(str(a.achieved_mfu != 0 ? "--achieved-mfu" : "--achieved-hfu",
                            " must be in (0, 1], got ", run.given.value));
    }
    run.mfu = run.given.value;  // a valid placeholder until the layout is checked
  }
  run.mem_usable = a.mem_usable;
  return run;
}

int run_list() {
  std::printf("model presets (layers hidden heads vocab seq params):\n");
  for (const auto& m : model_presets()) {
    std::printf("  %-15s %4lld %6lld %4lld %6lld %5lld %10.3g\n", m.name.c_str(),
                static_cast<long long>(m.layers), static_cast<long long>(m.hidden),
                static_cast<long long>(m.heads), static_cast<long long>(m.vocab),
                static_cast<long long>(m.seq), model_params(m));
  }
  std::printf("GPUs (16-bit tensor TFLOP/s, fp32 TFLOP/s, memory GB, bandwidth GB/s; source):\n");
  for (const auto& g : gpu_table()) {
    std::printf("  %-15s %7.1f %6.1f %6.0f %6.0f  %s\n", g.name.c_str(), g.peak_tensor16 / 1e12,
                g.peak_fp32 / 1e12, g.memory_bytes / 1e9, g.mem_bandwidth / 1e9, g.source.c_str());
  }
  std::printf("links (GB/s per GPU per direction, latency us):\n");
  for (const auto& l : link_table()) {
    std::printf("  %-10s %7.2f %5.1f\n", l.name.c_str(), l.bandwidth / 1e9, l.latency * 1e6);
  }
  return 0;
}

LocalRun build_local_run(const PlanArgs& a) {
  const RunSpec run = build_run(a);  // model with overrides
  LocalRun r;
  r.model = run.model;
  r.tp = a.tp;
  r.pp = a.pp;
  r.dp = a.dp > 0 ? a.dp : std::max(1, a.gpus / (a.tp * a.pp));
  r.micro_batch = a.micro_batch;
  r.global_batch = a.global_batch;
  r.zero = a.zero;
  r.zero_release = a.zero_release;
  const int machine = cpu::num_threads();
  r.threads_per_rank = a.rank_threads > 0 ? a.rank_threads : std::max(1, machine / local_ranks(r));
  local_validate(r);
  return r;
}

// --calibrate and/or --rates: measure (what the file lacks), save, and predict a weft run
// on local ranks of this machine when a model is named.
int run_local(const PlanArgs& a, bool predict) {
  Rates rates;
  std::string compute_from = "measured now", link_from = "measured now";
  if (!a.rates.empty()) {
    rates = rates_load(a.rates);
    if (rates.has_compute) compute_from = a.rates;
    if (rates.has_intra) link_from = a.rates;
  }
  const LocalRun run = build_local_run(a);
  if (a.calibrate || !rates.has_compute) {
    CalibrateOptions o;
    o.repeats = a.repeats;
    o.measure_link = !rates.has_intra;
    if (!a.calibrate) std::fprintf(stderr, "plan: %s has no compute section: measuring now\n", a.rates.c_str());
    const Rates fresh = calibrate_measure({run}, rates, o);
    rates_merge(rates, fresh);
    if (a.calibrate && rates.has_compute && !a.rates.empty()) compute_from = a.rates + " + measured now";
  }
  if (!rates.has_intra) link_from = "default";
  if (!a.save_rates.empty()) {
    rates_save(a.save_rates, rates, /*replace=*/a.save_rates == a.rates);
    if (!a.json) std::printf("rates saved to %s\n", a.save_rates.c_str());
  }
  if (!predict) {
    if (a.json) {
      std::cout << rates_to_json(rates).dump(2) << "\n";
    } else {
      std::cout << local_rates_text(rates);
      std::printf("add --preset d12 --seq 64 --global-batch 4 (and --dp/--tp/--pp, --gpus) to "
                  "predict a weft run on local ranks from these rates\n");
    }
    return 0;
  }
  const LocalStepReport wall = local_step_estimate(run, rates, /*cpu=*/false);
  const LocalStepReport cpu_clock = local_step_estimate(run, rates, /*cpu=*/true);
  if (a.json) {
    nlohmann::json j = local_report_json(run, wall, cpu_clock);
    j["rates_used"] = {{"compute", compute_from}, {"intra_host", link_from}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf("rates: compute %s; intra_host %s\n", compute_from.c_str(), link_from.c_str());
    std::cout << local_report_text(run, wall, cpu_clock);
  }
  return 0;
}

int run_plan(const PlanArgs& a, const CLI::App& app) {
  if (a.list) return run_list();
  if (!a.save_rates.empty() && !a.calibrate && a.rates.empty())
    throw input_error("--save-rates needs --calibrate (or --rates to copy)");
  if (a.calibrate || !a.rates.empty()) {
    const bool named = app.count("--preset") > 0;
    if (named) return run_local(a, true);
    // No model named: calibrate (or list) the shapes of d12 on T = 64, B = 4.
    PlanArgs d = a;
    d.preset = "d12";
    if (app.count("--seq") == 0) d.seq = 64;
    if (app.count("--global-batch") == 0) d.global_batch = 4;
    if (app.count("--micro-batch") == 0) d.micro_batch = 4;
    return run_local(d, false);
  }
  if ((a.achieved_mfu != 0 || a.achieved_hfu != 0) && (app.count("--mfu") || app.count("--tflops"))) {
    throw input_error("--achieved-mfu/--achieved-hfu set the math efficiency; do not also give --mfu or --tflops");
  }
  RunSpec run = build_run(a);
  if (a.search) {
    if (run.given.basis != Utilization::kMath) {
      throw input_error("--search ranks layouts by their bubble and communication at one math efficiency",
                        "give --mfu (or --tflops) with --search, not an end-to-end --achieved-mfu/--achieved-hfu, "
                        "which would make every layout equally fast");
    }
    if (a.top <= 0) throw input_error("--top must be positive");
    run_validate_common(run);  // the search sets dp, tp, pp, micro-batch, ZeRO, recompute
    const SearchResult r = plan_search(run);
    if (a.json) {
      std::cout << search_json(run, r, a.top).dump(2) << "\n";
    } else {
      std::cout << search_text(run, r, a.top);
    }
    if (!a.timeline.empty() && !r.fitting.empty()) {
      const Layout& best = r.fitting.front().layout;
      timeline_write(a.timeline, best.pp, static_cast<int>(layout_micro_batches(best)), 1.0,
                     best.recompute == Recompute::kFull ? 3.0 : 2.0, best.schedule,
                     best.virtual_stages);
    }
    return 0;
  }
  run_validate(run);
  run = run_with_given_utilization(run);
  const MemoryReport mem = memory_estimate(run);
  const TimeReport t = time_estimate(run);
  if (a.json) {
    std::cout << report_json(run, mem, t).dump(2) << "\n";
  } else {
    std::cout << report_text(run, mem, t);
  }
  if (!a.timeline.empty()) {
    // Backward = 2 forwards; a recomputed forward makes it 3.
    timeline_write(a.timeline, run.layout.pp, static_cast<int>(t.micro_batches), 1.0,
                   run.layout.recompute == Recompute::kFull ? 3.0 : 2.0, run.layout.schedule,
                   run.layout.virtual_stages);
    if (!a.json) std::printf("timeline written to %s\n", a.timeline.c_str());
  }
  return 0;
}

std::function<int()> plan_setup(CLI::App& app) {
               auto a = std::make_shared<PlanArgs>();
               app.add_option("--preset", a->preset, "Model preset (see --list)")->capture_default_str();
               app.add_option("--layers", a->layers, "Override: transformer layers");
               app.add_option("--hidden", a->hidden, "Override: hidden size (d_model)");
               app.add_option("--heads", a->heads, "Override: attention heads");
               app.add_option("--vocab", a->vocab, "Override: vocabulary size");
               app.add_option("--seq", a->seq, "Override: sequence length");
               app.add_option("--tokens", a->tokens, "Training tokens (e.g. 300e9)")->capture_default_str();
               app.add_option("--gpu", a->gpu, "GPU type (see --list)")->capture_default_str();
               app.add_option("--gpus", a->gpus, "Total GPUs")->capture_default_str();
               app.add_option("--gpus-per-node", a->gpus_per_node, "GPUs per node")->capture_default_str();
               app.add_option("--nics-per-node", a->nics_per_node, "Inter-node NICs per node (default: one per GPU)");
               app.add_option("--intra", a->intra, "Intra-node link (default by GPU: nvlink2/3/4, pcie4)");
               app.add_option("--inter", a->inter, "Inter-node link (ib-hdr, ib-ndr, eth-100g, ...)");
               app.add_option("--intra-bw", a->intra_bw_gbs, "Override intra-node GB/s per GPU");
               app.add_option("--inter-bw", a->inter_bw_gbs, "Override inter-node GB/s per GPU");
               app.add_option("--intra-latency", a->intra_lat_us, "Override intra-node latency (us)");
               app.add_option("--inter-latency", a->inter_lat_us, "Override inter-node latency (us)");
               app.add_option("--dp", a->dp, "Data-parallel size (default GPUs / (tp*pp))");
               app.add_option("--tp", a->tp, "Tensor-parallel size")->capture_default_str();
               app.add_option("--pp", a->pp, "Pipeline-parallel size")->capture_default_str();
               app.add_option("--micro-batch", a->micro_batch, "Sequences per micro-batch")->capture_default_str();
               app.add_option("--global-batch", a->global_batch, "Sequences per step")->capture_default_str();
               app.add_option("--zero", a->zero, "ZeRO stage 0-3")->capture_default_str();
               app.add_option("--zero-release", a->zero_release,
                              "Local runs (--calibrate/--rates): weft train's --zero-release, none|grads|all")
                   ->capture_default_str();
               app.add_option("--recompute", a->recompute, "Activation recomputation: none, selective, full")->capture_default_str();
               app.add_option("--schedule", a->schedule, "Pipeline schedule: 1f1b, gpipe or interleaved")->capture_default_str();
               app.add_option("--virtual-stages", a->virtual_stages, "Model chunks per device, interleaved schedule (default 2)");
               app.add_flag("--dp-overlap", a->dp_overlap, "Overlap the gradient all-reduce with the last backward (PyTorch DDP)");
               app.add_flag("--fp32", a->fp32, "Plain fp32 training instead of mixed precision");
               app.add_flag("--no-sequence-parallel", a->no_sp, "Tensor parallel without sequence parallel");
               app.add_option("--mfu", a->mfu, "Fraction of peak the math reaches")->capture_default_str();
               app.add_option("--tflops", a->tflops, "TFLOP/s per GPU the math reaches (sets --mfu)");
               app.add_option("--achieved-mfu", a->achieved_mfu,
                              "End-to-end MFU measured for this layout (PaLM's: model FLOPs, no recomputation); weft solves --mfu");
               app.add_option("--achieved-hfu", a->achieved_hfu,
                              "End-to-end HFU (executed FLOPs incl. recomputation: Narayanan's % of peak); weft solves --mfu");
               app.add_option("--price", a->price, "USD per GPU-hour");
               app.add_option("--mem-usable", a->mem_usable, "Usable fraction of GPU memory")->capture_default_str();
               app.add_option("--flops", a->flops_rule, "FLOP count: narayanan or 6nd")->capture_default_str();
               app.add_flag("--search", a->search, "Rank every layout that fits for --gpus");
               app.add_option("--top", a->top, "Layouts shown by --search")->capture_default_str();
               app.add_flag("--json", a->json, "Print JSON (stable keys, docs/plan.md)");
               app.add_option("--timeline", a->timeline, "Write GPipe and 1F1B schedules (and interleaved 1F1B) as SVG");
               app.add_flag("--calibrate", a->calibrate, "Measure this machine's sgemm shapes, kernel bandwidths and local alpha-beta");
               app.add_option("--rates", a->rates, "Rates JSON from --save-rates (or weft bench comm --json): predict without measuring");
               app.add_option("--save-rates", a->save_rates, "Write the measured rates (JSON) to this file");
               app.add_option("--rank-threads", a->rank_threads, "Threads per local rank (default: cores / ranks)");
               app.add_option("--repeats", a->repeats, "Calibration: repeats per measurement (median)")->capture_default_str();
               app.add_flag("--list", a->list, "List model presets, GPUs and links");
               return [a, &app] { return run_plan(*a, app); };
}

WEFT_COMMAND("plan", "Memory, time and cost of a large training run; layout search; timelines", 700,
             plan_setup);

}  // namespace
