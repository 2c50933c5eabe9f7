// bench_train: single-rank training speed of weft's GPT engine on this CPU.
// Prints the measured sgemm peak (2048³), then for d12 (B=4, T=64) and d6 (B=8,
// T=256): median train-step ms, tokens/s, MFU (6·N·tokens + causal attention FLOPs
// over that peak) and a forward/backward/optimizer/other breakdown; peak RSS against
// the analytic sum (params + grads + 2 AdamW moments + activations). With
// --torch-cmd it runs tools/bench_torch.py and prints PyTorch's s/step and the ratio.
// Checks first: a few steps on a fixed batch must give finite, falling losses.
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "kernels/cpu/threads.hpp"
#include "model/gpt_model.hpp"
#include "train/adamw_optimizer.hpp"
#include "train/peak_flops.hpp"
#include "train/train_step.hpp"

namespace {

using namespace weft;

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;  // KiB on Linux
}

struct Config {
  std::string name;
  std::string preset;
  int B, T, steps;
};

// Runs `cfg`; returns median s/step. Exits non-zero if the check fails.
double run_config(const Config& cfg, double peak_gflops) {
  const model::GptConfig c = model::gpt_config_preset(cfg.preset);
  model::GptModel m(c, cfg.B, cfg.T, true);
  m.init_weights(42);
  train::AdamWOptimizer opt(m.layout());
  cpu::AdamWConfig adam;
  const train::LrSchedule schedule{1e-4, 0, 1000, 1.0};  // as the PyTorch fixture: loss falls
  train::TrainStep step(m, opt, adam, schedule, 1.0f, cfg.B, cfg.T, 1);
  // A fixed random batch: the check is that training on it lowers its loss.
  std::vector<std::int32_t> xs(static_cast<std::size_t>(cfg.B) * cfg.T), ys(xs.size());
  Rng rng(7);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    xs[i] = static_cast<std::int32_t>(rng.below(c.vocab));
    ys[i] = static_cast<std::int32_t>(rng.below(c.vocab));
  }
  auto batch = [&](std::int32_t* x, std::int32_t* y) {
    std::copy(xs.begin(), xs.end(), x);
    std::copy(ys.begin(), ys.end(), y);
  };
  std::vector<train::StepStats> stats;
  for (int s = 0; s < cfg.steps + 1; ++s) stats.push_back(step.run(s, batch));
  const double first = stats.front().loss, last = stats.back().loss;
  if (!std::isfinite(last) || !(last < first) || std::fabs(first - std::log(c.vocab)) > 0.5) {
    std::fprintf(stderr, "CHECK FAILED %s: losses %.4f -> %.4f (expected ~ln V = %.3f, then falling)\n",
                 cfg.name.c_str(), first, last, std::log(c.vocab));
    std::exit(1);
  }
  stats.erase(stats.begin());  // the first step pays page faults
  // The breakdown is taken from the median step, so its parts add up to its total.
  std::sort(stats.begin(), stats.end(),
            [](const auto& a, const auto& b) { return a.ms_total < b.ms_total; });
  const train::StepStats& med = stats[stats.size() / 2];
  const double ms = med.ms_total, f = med.ms_forward, b = med.ms_backward, o = med.ms_optimizer;
  const double flops = model::GptModel::train_flops(c, cfg.B, cfg.T);
  const double tokens = static_cast<double>(cfg.B) * cfg.T;
  const double mfu = flops / (ms / 1e3) / (peak_gflops * 1e9);
  std::printf("%-4s B=%d T=%-4d params %6.1fM | %8.1f ms/step | %7.0f tok/s | %6.1f GFLOP/s | MFU %5.1f%%"
              " | fwd %6.1f bwd %6.1f opt %5.1f other %5.1f ms (opt+other %4.1f%%)"
              " | loss %.3f -> %.3f\n",
              cfg.name.c_str(), cfg.B, cfg.T, m.num_params() / 1e6, ms, tokens / (ms / 1e3),
              flops / (ms / 1e3) / 1e9, 100 * mfu, f, b, o, ms - f - b - o,
              100 * (o + std::max(0.0, ms - f - b - o)) / ms, first, last);
  const double analytic_mb =
      (4.0 * m.num_params() + m.activations().floats()) * 4.0 / (1024.0 * 1024.0);
  std::printf("     memory: peak RSS %.0f MB (of the process so far: exact for the first config run; use --only), analytic %.0f MB (params+grads+m+v %.0f MB, activations %.0f MB), ratio %.2f\n",
              peak_rss_mb(), analytic_mb, 16.0 * m.num_params() / (1024.0 * 1024.0),
              4.0 * m.activations().floats() / (1024.0 * 1024.0), peak_rss_mb() / analytic_mb);
  // On a shared machine the peak drifts: re-measure it right after, for context.
  const double peak_after = train::measure_sgemm_gflops(2048, 3);
  std::printf("     sgemm peak re-measured after this config: %.1f GFLOP/s -> MFU %.1f%%\n", peak_after,
              100 * flops / (ms / 1e3) / (peak_after * 1e9));
  std::fflush(stdout);
  return ms / 1e3;
}

// Runs the PyTorch baseline; reads lines "torch <name> s_per_step <x>".
std::map<std::string, double> run_torch(const std::string& cmd) {
  std::map<std::string, double> out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char line[512];
  while (std::fgets(line, sizeof line, p)) {
    std::fputs(line, stdout);
    char name[64];
    double s;
    if (std::sscanf(line, "torch %63s s_per_step %lf", name, &s) == 2) out[name] = s;
  }
  pclose(p);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
  int threads = 2;
  std::string torch_cmd, only;
  int steps = 4;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--torch-cmd" && i + 1 < argc) torch_cmd = argv[++i];
    else if (a == "--only" && i + 1 < argc) only = argv[++i];
    else if (a == "--steps" && i + 1 < argc) steps = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: bench_train [--threads N] [--steps N] [--only d12|d6] [--torch-cmd CMD]\n");
      return 2;
    }
  }
  cpu::set_num_threads(threads);
  const double peak = train::measure_sgemm_gflops(2048, 5);
  std::printf("bench_train: threads %d, sgemm peak (2048^3, median of 5) %.1f GFLOP/s\n", threads, peak);
  const std::vector<Config> configs = {{"d12", "d12", 4, 64, steps}, {"d6", "d6", 8, 256, steps}};
  std::map<std::string, double> ours;
  for (const Config& c : configs)
    if (only.empty() || only == c.name) ours[c.name] = run_config(c, peak);
  if (!torch_cmd.empty()) {
    const auto torch = run_torch(torch_cmd);
    for (const auto& [name, s] : ours) {
      auto it = torch.find(name);
      if (it != torch.end())
        std::printf("%-4s weft %.3f s/step, PyTorch fp32 %.3f s/step: weft is %.2fx PyTorch's speed\n",
                    name.c_str(), s, it->second, it->second / s);
    }
  }
  return 0;
}
