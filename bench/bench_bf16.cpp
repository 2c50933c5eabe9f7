// bench_bf16: bf16 against fp32 on this CPU. Prints the measured GEMM peaks (2048³,
// sgemm vs oneDNN bf16), then median train-step time and MFU of d12 (B=4, T=64) and
// d6 (B=8, T=256) in fp32 and bf16 (MFU against each precision's own measured peak).
// Checks first: the bf16 GEMM agrees with sgemm to bf16 accuracy, and a few bf16
// steps on a fixed batch lower its loss. Usage: bench_bf16 [--threads N] [--steps N]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/aligned_buffer.hpp"
#include "core/rng.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/matmul_bf16.hpp"
#include "kernels/cpu/threads.hpp"
#include "model/gpt_model.hpp"
#include "train/adamw_optimizer.hpp"
#include "train/peak_flops.hpp"
#include "train/train_step.hpp"

namespace {

using namespace weft;
using clk = std::chrono::steady_clock;

// Median GFLOP/s of n³ bf16 GEMMs (out = A·Bᵀ); checks it against sgemm first.
double measure_bf16_gflops(int n, int reps) {
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
  mm.forward(c.data(), a.data(), b16.data(), nullptr, n, n, n);
  cpu::matmul_forward(ref.data(), a.data(), b.data(), nullptr, n, n, n);
  double worst = 0.0;  // error relative to sqrt(K) (random-sign sum of N(0,1) products)
  for (std::size_t i = 0; i < nn; ++i) worst = std::max(worst, std::fabs(c[i] - ref[i]) / std::sqrt(n));
  if (worst > 0.05) {
    std::fprintf(stderr, "CHECK FAILED: bf16 GEMM vs sgemm worst |err|/sqrt(K) = %.4f\n", worst);
    std::exit(1);
  }
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = clk::now();
    mm.forward(c.data(), a.data(), b16.data(), nullptr, n, n, n);
    t.push_back(std::chrono::duration<double>(clk::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return 2.0 * n * nn / t[t.size() / 2] / 1e9;
}

// Median s/step of `preset` at B×T in `precision`. Exits non-zero if the loss does not fall.
double step_seconds(const std::string& preset, int B, int T, int steps, cpu::Precision precision) {
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
  std::vector<double> ms;
  double first = 0, last = 0;
  for (int s = 0; s < steps + 1; ++s) {
    const train::StepStats st = step.run(s, batch);
    if (s == 0) first = st.loss; else ms.push_back(st.ms_total);
    last = st.loss;
  }
  if (!std::isfinite(last) || !(last < first)) {
    std::fprintf(stderr, "CHECK FAILED %s %s: loss %.4f -> %.4f\n", preset.c_str(),
                 cpu::precision_name(precision), first, last);
    std::exit(1);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2] / 1e3;
}

}  // namespace

int main(int argc, char** argv) {
  setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
  int threads = 2, steps = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--threads") threads = std::atoi(argv[i + 1]);
    else if (k == "--steps") steps = std::atoi(argv[i + 1]);
  }
  cpu::set_num_threads(threads);
  std::printf("bench_bf16: %d threads; %s\n", threads, cpu::bf16_matmul_status().c_str());
  if (!cpu::bf16_matmul_available()) {
    std::printf("no native bf16 here: nothing to compare\n");
    return 0;
  }
  const double bf16_peak = measure_bf16_gflops(2048, 5);
  const double fp32_peak = train::measure_sgemm_gflops(2048, 5);
  std::printf("GEMM peak 2048^3: fp32 sgemm %.1f GFLOP/s | bf16 oneDNN %.1f GFLOP/s | ratio %.2fx\n",
              fp32_peak, bf16_peak, bf16_peak / fp32_peak);
  struct Cfg { const char* name; const char* preset; int B, T; };
  for (const Cfg& cfg : {Cfg{"d12", "d12", 4, 64}, Cfg{"d6", "d6", 8, 256}}) {
    const model::GptConfig c = model::gpt_config_preset(cfg.preset);
    const double flops = model::GptModel::train_flops(c, cfg.B, cfg.T);
    const double s32 = step_seconds(cfg.preset, cfg.B, cfg.T, steps, cpu::Precision::kFp32);
    const double s16 = step_seconds(cfg.preset, cfg.B, cfg.T, steps, cpu::Precision::kBf16);
    std::printf("%-4s B=%d T=%-4d | fp32 %7.1f ms/step MFU %5.1f%% of fp32 peak | bf16 %7.1f ms/step"
                " MFU %5.1f%% of bf16 peak (%5.1f%% of fp32 peak) | speed-up %.2fx\n",
                cfg.name, cfg.B, cfg.T, s32 * 1e3, 100 * flops / s32 / (fp32_peak * 1e9), s16 * 1e3,
                100 * flops / s16 / (bf16_peak * 1e9), 100 * flops / s16 / (fp32_peak * 1e9),
                s32 / s16);
    std::fflush(stdout);
  }
  // On a shared machine the peaks drift: re-measure them after, for context.
  std::printf("GEMM peak re-measured after: fp32 sgemm %.1f GFLOP/s | bf16 oneDNN %.1f GFLOP/s\n",
              train::measure_sgemm_gflops(2048, 5), measure_bf16_gflops(2048, 5));
  return 0;
}
