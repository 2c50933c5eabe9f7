// bench_bf16: bf16 against fp32 on this CPU. Prints the measured GEMM peaks (2048³,
// sgemm vs oneDNN bf16), then median train-step time and MFU of d12 (B=4, T=64) and
// d6 (B=8, T=256) in fp32 and bf16 (MFU against each precision's own measured peak),
// from wall time, from process CPU time (CPU s / threads; the peaks measured the same
// way) and against a 2048³ GEMM probe timed right after each step (steadiest under
// load: both slow down alike), and the share of the step inside bf16 matmuls. Checks: the
// bf16 GEMM agrees with sgemm to bf16 accuracy, and the bf16 steps lower the loss.
// Usage: bench_bf16 [--threads N] [--steps N] [--only d12|d6] [--precision fp32|bf16|both]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "core/aligned_buffer.hpp"
#include "core/rng.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/matmul_bf16.hpp"
#include "kernels/cpu/threads.hpp"
#include "model/gpt_model.hpp"
#include "train/adamw_optimizer.hpp"
#include "train/train_step.hpp"

namespace {

using namespace weft;
using clk = std::chrono::steady_clock;

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Median wall seconds and median CPU seconds of the timed runs.
struct Timing {
  double wall = 0, cpu = 0;
};

Timing medians(std::vector<double> wall, std::vector<double> cpu) {
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

// Median GEMM throughput (GFLOP/s, wall and CPU-per-thread) of n³ out = A·Bᵀ in
// `precision`; the bf16 one is first checked against sgemm.
Timing measure_gemm_gflops(cpu::Precision precision, int n, int reps, int threads) {
  const std::size_t nn = static_cast<std::size_t>(n) * n;
  std::vector<float> a(nn), b(nn), c(nn), ref(nn);
  Rng rng(3);
  for (std::size_t i = 0; i < nn; ++i) {
    a[i] = rng.normal();
    b[i] = rng.normal();
  }
  std::vector<cpu::bf16> b16(nn);
  cpu::f32_to_bf16_array(b16.data(), b.data(), nn);
  cpu::Bf16Matmul mm;
  auto run = [&] {
    if (precision == cpu::Precision::kBf16)
      mm.forward(c.data(), a.data(), b16.data(), nullptr, n, n, n);
    else
      cpu::matmul_forward(c.data(), a.data(), b.data(), nullptr, n, n, n);
  };
  run();
  if (precision == cpu::Precision::kBf16) {
    cpu::matmul_forward(ref.data(), a.data(), b.data(), nullptr, n, n, n);
    double worst = 0.0;  // error relative to sqrt(K) (random-sign sum of N(0,1) products)
    for (std::size_t i = 0; i < nn; ++i)
      worst = std::max(worst, std::fabs(c[i] - ref[i]) / std::sqrt(n));
    if (worst > 0.05) {
      std::fprintf(stderr, "CHECK FAILED: bf16 GEMM vs sgemm worst |err|/sqrt(K) = %.4f\n", worst);
      std::exit(1);
    }
  }
  std::vector<double> wall, cpu_s;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = clk::now();
    const double c0 = cpu_now();
    run();
    cpu_s.push_back((cpu_now() - c0) / threads);
    wall.push_back(std::chrono::duration<double>(clk::now() - t0).count());
  }
  const Timing t = medians(wall, cpu_s);
  const double flops = 2.0 * n * static_cast<double>(nn);
  return {flops / t.wall / 1e9, flops / t.cpu / 1e9};
}

// One n³ GEMM in a precision, timed (wall seconds) next to each step: on a loaded
// machine the step and this probe slow down alike, so their ratio is steadier than either.
struct GemmProbe {
  int n;
  std::vector<float> a, b, c;
  std::vector<cpu::bf16> b16;
  cpu::Bf16Matmul mm;
  explicit GemmProbe(int n_) : n(n_), a(std::size_t(n_) * n_, 0.5f), b(a), c(a), b16(a.size()) {
    cpu::f32_to_bf16_array(b16.data(), b.data(), b.size());
  }
  double gflops(cpu::Precision p) {
    const auto t0 = clk::now();
    if (p == cpu::Precision::kBf16)
      mm.forward(c.data(), a.data(), b16.data(), nullptr, n, n, n);
    else
      cpu::matmul_forward(c.data(), a.data(), b.data(), nullptr, n, n, n);
    return 2.0 * n * double(n) * n / std::chrono::duration<double>(clk::now() - t0).count() / 1e9;
  }
};

struct StepTiming {
  Timing t;                                   // seconds per step (cpu: CPU seconds / threads)
  double fwd_ms = 0, bwd_ms = 0, opt_ms = 0;  // medians, wall
  double mfu_probe = 0;   // median of (step GFLOP/s) / (probe GEMM GFLOP/s right after it)
  double gemm_share = 0;  // median share of the step's wall time inside bf16 matmuls
};

// Median step time of `preset` at B×T in `precision`. Exits non-zero if the loss does not fall.
StepTiming step_seconds(const std::string& preset, int B, int T, int steps,
                        cpu::Precision precision, int threads, GemmProbe& probe) {
  const model::GptConfig c = model::gpt_config_preset(preset);
  model::GptModel m(c, B, T, true);
  m.init_weights(42);
  m.set_precision(precision);
  train::AdamWOptimizer opt(m.layout());
  cpu::AdamWConfig adam;
  const train::LrSchedule schedule{1e-4, 0, 1000, 1.0};
  train::TrainStep step(m, opt, adam, schedule, 1.0f, B, T, 1);
  std::vector<std::int32_t> xs(static_cast<std::size_t>(B) * T), ys(xs.size());
  Rng rng(7);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    xs[i] = static_cast<std::int32_t>(rng.below(c.vocab));
    ys[i] = static_cast<std::int32_t>(rng.below(c.vocab));
  }
  auto batch = [&](std::int32_t* x, std::int32_t* y) {
    std::copy(xs.begin(), xs.end(), x);
    std::copy(ys.begin(), ys.end(), y);
  };
  const double flops = model::GptModel::train_flops(c, B, T);
  std::vector<double> wall, cpu_s, f, b, o, ratio, share;
  double first = 0, last = 0;
  for (int s = 0; s < steps + 1; ++s) {
    const double c0 = cpu_now(), mm0 = m.bf16_matmul_seconds();
    const train::StepStats st = step.run(s, batch);
    const double cs = (cpu_now() - c0) / threads;
    const double mm_s = m.bf16_matmul_seconds() - mm0;
    if (s == 0) {
      first = st.loss;  // the first step pays allocation and primitive creation
    } else {
      wall.push_back(st.ms_total / 1e3);
      cpu_s.push_back(cs);
      f.push_back(st.ms_forward);
      b.push_back(st.ms_backward);
      o.push_back(st.ms_optimizer);
      ratio.push_back(flops / (st.ms_total / 1e3) / 1e9 / probe.gflops(precision));
      share.push_back(mm_s / (st.ms_total / 1e3));
    }
    last = st.loss;
  }
  if (!std::isfinite(last) || !(last < first)) {
    std::fprintf(stderr, "CHECK FAILED %s %s: loss %.4f -> %.4f\n", preset.c_str(),
                 cpu::precision_name(precision), first, last);
    std::exit(1);
  }
  auto med = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  return {medians(wall, cpu_s), med(f), med(b), med(o), med(ratio), med(share)};
}

}  // namespace

int main(int argc, char** argv) {
  setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
  int threads = 2, steps = 4;
  std::string only, which = "both";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--threads")
      threads = std::atoi(argv[i + 1]);
    else if (k == "--steps")
      steps = std::atoi(argv[i + 1]);
    else if (k == "--only")
      only = argv[i + 1];
    else if (k == "--precision")
      which = argv[i + 1];
  }
  steps = std::max(steps, 1);
  cpu::set_num_threads(threads);
  std::printf("bench_bf16: %d threads; %s\n", threads, cpu::bf16_matmul_status().c_str());
  if (!cpu::bf16_matmul_available()) {
    std::printf("no native bf16 here: nothing to compare\n");
    return 0;
  }
  const Timing bf16_peak = measure_gemm_gflops(cpu::Precision::kBf16, 2048, 5, threads);
  const Timing fp32_peak = measure_gemm_gflops(cpu::Precision::kFp32, 2048, 5, threads);
  std::printf(
      "GEMM peak 2048^3 (GFLOP/s, wall | per CPU-thread-second): fp32 sgemm %.1f | %.1f ;"
      " bf16 oneDNN %.1f | %.1f ; ratio %.2fx\n",
      fp32_peak.wall, fp32_peak.cpu, bf16_peak.wall, bf16_peak.cpu, bf16_peak.cpu / fp32_peak.cpu);
  GemmProbe probe(2048);
  struct Cfg {
    const char* name;
    int B, T;
  };
  for (const Cfg& cfg : {Cfg{"d12", 4, 64}, Cfg{"d6", 8, 256}}) {
    if (!only.empty() && only != cfg.name) continue;
    const model::GptConfig c = model::gpt_config_preset(cfg.name);
    const double flops = model::GptModel::train_flops(c, cfg.B, cfg.T);
    for (cpu::Precision p : {cpu::Precision::kFp32, cpu::Precision::kBf16}) {
      if (which != "both" && which != cpu::precision_name(p)) continue;
      const StepTiming s = step_seconds(cfg.name, cfg.B, cfg.T, steps, p, threads, probe);
      const Timing& peak = p == cpu::Precision::kBf16 ? bf16_peak : fp32_peak;
      std::printf(
          "%-4s B=%d T=%-4d %s | wall %7.1f ms/step (fwd %.0f bwd %.0f opt %.0f) MFU %5.1f%%"
          " | cpu %7.1f ms/step MFU %5.1f%% | MFU vs GEMM probe after each step %5.1f%%"
          " | in bf16 matmuls %4.1f%% | of %s peak\n",
          cfg.name, cfg.B, cfg.T, cpu::precision_name(p), s.t.wall * 1e3, s.fwd_ms, s.bwd_ms,
          s.opt_ms, 100 * flops / s.t.wall / (peak.wall * 1e9), s.t.cpu * 1e3,
          100 * flops / s.t.cpu / (peak.cpu * 1e9), 100 * s.mfu_probe, 100 * s.gemm_share,
          cpu::precision_name(p));
      std::fflush(stdout);
    }
  }
  // On a shared machine the peaks drift: re-measure them after, for context.
  const Timing b2 = measure_gemm_gflops(cpu::Precision::kBf16, 2048, 5, threads);
  const Timing f2 = measure_gemm_gflops(cpu::Precision::kFp32, 2048, 5, threads);
  std::printf("GEMM peak re-measured after: fp32 %.1f | %.1f ; bf16 %.1f | %.1f\n", f2.wall, f2.cpu,
              b2.wall, b2.cpu);
  return 0;
}
