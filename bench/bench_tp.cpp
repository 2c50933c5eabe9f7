// bench_tp: tensor-parallel speed of a d6 training step (forward_train + backward,
// no optimizer), tp = 1 against tp = 2 ranks as threads of this process, one
// OpenMP thread per rank (and tp = 1 with 2 threads, the same core count as tp = 2).
// Checks first: tp = 2's loss and grad norm on the same batch equal tp = 1's
// (rel 1e-5). Prints median ms/step, tokens/s and the tp all-reduce bytes per step
// against the formula 4·B·T·C·(4L+2) + 24·B·T. Usage: bench_tp [steps=7 B=4 T=128]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "core/rng.hpp"
#include "core/timer.hpp"
#include "kernels/cpu/grad_norm.hpp"
#include "kernels/cpu/threads.hpp"
#include "model/gpt_model.hpp"
#include "parallel/comm/launch.hpp"
#include "parallel/tensor_parallel.hpp"
#include "parallel/tp_shard.hpp"

namespace {

using namespace weft;

struct Result {
  double loss = 0, norm2 = 0, median_ms = 0;
  std::uint64_t bytes = 0;
};

// Runs `steps` timed steps on rank thread(s); tp = 1 runs on the calling thread.
Result run(const model::GptConfig& cfg, int tp, int threads, int B, int T, int steps,
           const std::vector<std::int32_t>& x, const std::vector<std::int32_t>& y) {
  Result out;
  std::mutex mu;
  auto body = [&](comm::Communicator* c) {
    cpu::set_num_threads(threads);
    const int r = c ? c->rank() : 0;
    model::GptModel m(cfg, B, T, true, {r, tp});
    parallel::tp_init_weights(m, 1337);
    std::unique_ptr<parallel::TensorParallel> hooks;
    if (c) {
      hooks = std::make_unique<parallel::TensorParallel>(*c, m);
      m.set_hooks(hooks.get());
    }
    std::vector<double> ms;
    double loss = 0, norm2 = 0;
    for (int s = 0; s <= steps; ++s) {  // step 0 warms up and is the checked one
      Stopwatch w;
      m.zero_grad();
      const float l = m.forward_train(x.data(), y.data(), nullptr, B, T, 1.0f);
      m.backward();
      if (s == 0) {
        loss = l;
        norm2 = hooks ? hooks->grad_sum_squares() : cpu::grad_sum_squares(m.grads(), m.num_params());
        if (hooks) hooks->take_bytes();
      } else {
        ms.push_back(w.ms());
      }
    }
    const std::uint64_t bytes = hooks ? hooks->take_bytes() / static_cast<std::uint64_t>(steps) : 0;
    m.set_hooks(nullptr);
    std::sort(ms.begin(), ms.end());
    std::lock_guard<std::mutex> lock(mu);
    if (r == 0) out = {loss, norm2, ms[ms.size() / 2], bytes};
  };
  if (tp == 1)
    body(nullptr);
  else
    comm::run_ranks(comm::RanksAs::kThreads, tp, {}, [&](comm::Communicator& c) { body(&c); });
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::atoi(argv[1]) : 7;
  const int B = argc > 2 ? std::atoi(argv[2]) : 4;
  const int T = argc > 3 ? std::atoi(argv[3]) : 128;
  const model::GptConfig cfg = model::gpt_config_preset("d6", 50257, T);
  Rng rng(3);
  std::vector<std::int32_t> x(static_cast<std::size_t>(B) * T), y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = static_cast<std::int32_t>(rng.below(50257));
    y[i] = static_cast<std::int32_t>(rng.below(50257));
  }
  std::printf("bench_tp: d6 (%s), B=%d T=%d, %d timed steps (forward_train + backward), median\n",
              cfg.describe().c_str(), B, T, steps);
  const Result one = run(cfg, 1, 1, B, T, steps, x, y);
  const Result two = run(cfg, 2, 1, B, T, steps, x, y);
  const double dl = std::abs(two.loss - one.loss) / one.loss;
  const double dn = std::abs(two.norm2 - one.norm2) / one.norm2;
  std::printf("check: tp2 loss rel diff %.2e, grad Σg² rel diff %.2e\n", dl, dn);
  if (dl > 1e-5 || dn > 1e-5) {
    std::printf("FAIL: tp = 2 does not reproduce tp = 1\n");
    return 1;
  }
  const Result one2 = run(cfg, 1, 2, B, T, steps, x, y);
  const double tokens = static_cast<double>(B) * T;
  const double formula = 4.0 * tokens * cfg.n_embd * (4 * cfg.n_layer + 2) + 24.0 * tokens;
  std::printf("%-28s %10s %12s %16s\n", "layout", "ms/step", "tokens/s", "tp bytes/step");
  std::printf("%-28s %10.1f %12.0f %16s\n", "tp1, 1 thread (baseline)", one.median_ms,
              tokens / one.median_ms * 1e3, "-");
  std::printf("%-28s %10.1f %12.0f %16s\n", "tp1, 2 threads", one2.median_ms,
              tokens / one2.median_ms * 1e3, "-");
  std::printf("%-28s %10.1f %12.0f %16llu\n", "tp2, 2 ranks x 1 thread", two.median_ms,
              tokens / two.median_ms * 1e3, static_cast<unsigned long long>(two.bytes));
  std::printf("tp bytes/step per rank: measured %llu, formula 4·B·T·C·(4L+2) + 24·B·T = %.0f\n",
              static_cast<unsigned long long>(two.bytes), formula);
  return 0;
}
