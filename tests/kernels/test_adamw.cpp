// AdamW vs a PyTorch fixture (tools/make_adamw_fixture.py) and vs the closed-form update
// written out here in double; grad norm and clipping vs direct computation.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kernels/cpu/adamw.hpp"
#include "kernels/cpu/grad_norm.hpp"
#include "kernel_test_util.hpp"

namespace weft {
namespace {

using namespace kernel_test;

// Distance in units in the last place between two finite floats of the same sign region.
int64_t ulp_distance(float a, float b) {
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  if (ia < 0) ia = INT32_MIN - ia;
  if (ib < 0) ib = INT32_MIN - ib;
  return std::llabs(static_cast<int64_t>(ia) - ib);
}

TEST(KernelAdamW, MatchesPyTorchTenSteps) {
  std::ifstream in(WEFT_FIXTURES_DIR "/kernels/adamw_torch.json");
  ASSERT_TRUE(in) << "missing fixture; regenerate with /usr/bin/python3 tools/make_adamw_fixture.py";
  const auto fx = nlohmann::json::parse(in);
  const size_t nd = fx["decay_count"], nn = fx["nodecay_count"], n = nd + nn;
  std::vector<float> p(n), m(n, 0.0f), v(n, 0.0f);
  for (size_t i = 0; i < n; ++i) p[i] = fx["params0"][i].get<float>();
  const cpu::AdamWRange ranges[] = {{0, nd, true}, {nd, nn, false}};
  cpu::AdamWConfig cfg;
  cfg.lr = fx["lr"];
  cfg.beta1 = fx["beta1"];
  cfg.beta2 = fx["beta2"];
  cfg.eps = fx["eps"];
  cfg.weight_decay = fx["weight_decay"];
  int64_t worst = 0, exact = 0, total = 0;
  for (size_t step = 0; step < fx["grads"].size(); ++step) {
    std::vector<float> g(n);
    for (size_t i = 0; i < n; ++i) g[i] = fx["grads"][step][i].get<float>();
    const float scale = fx["clip_scale"][step].get<float>();
    cpu::adamw_update(p.data(), m.data(), v.data(), g.data(), n, ranges, cfg,
                      static_cast<int64_t>(step) + 1, scale);
    for (const char* name : {"params", "m", "v"}) {
      const std::vector<float>& ours = name[0] == 'p' ? p : name[0] == 'm' ? m : v;
      for (size_t i = 0; i < n; ++i) {
        const int64_t d = ulp_distance(ours[i], fx[name][step][i].get<float>());
        worst = std::max(worst, d);
        exact += d == 0;
        ++total;
        EXPECT_LE(d, 1) << name << " step " << step + 1 << " element " << i << ": ours "
                        << ours[i] << " torch " << fx[name][step][i].get<float>();
      }
    }
  }
  std::printf("AdamW vs PyTorch: %lld of %lld values bit-identical, worst %lld ulp\n",
              static_cast<long long>(exact), static_cast<long long>(total),
              static_cast<long long>(worst));
}

TEST(KernelAdamW, ClosedFormWithDecayRangesAndGaps) {
  // 40 parameters: [0,20) decayed, [20,30) not decayed, [30,40) in no range (untouched).
  constexpr size_t n = 40;
  const cpu::AdamWRange ranges[] = {{20, 10, false}, {0, 20, true}};  // any order
  cpu::AdamWConfig cfg;
  cfg.lr = 3e-3;
  cfg.beta1 = 0.8;
  cfg.beta2 = 0.99;
  cfg.eps = 1e-6;
  cfg.weight_decay = 0.5;
  const auto p0 = random_vec(n, 61);
  std::vector<float> p = to_float(p0), m(n, 0.0f), v(n, 0.0f);
  std::vector<double> pe(p0), me(n, 0.0), ve(n, 0.0);
  for (int t = 1; t <= 4; ++t) {
    const auto g = random_vec(n, 100 + t, -2.0, 2.0);
    const auto gf = to_float(g);
    const float gs = t == 3 ? 0.5f : 1.0f;  // one clipped step
    cpu::adamw_update(p.data(), m.data(), v.data(), gf.data(), n, ranges, cfg, t, gs);
    for (size_t i = 0; i < 30; ++i) {
      // Loshchilov & Hutter's AdamW with Adam's bias correction, in double.
      const double gi = g[i] * gs;
      me[i] = cfg.beta1 * me[i] + (1 - cfg.beta1) * gi;
      ve[i] = cfg.beta2 * ve[i] + (1 - cfg.beta2) * gi * gi;
      const double mhat = me[i] / (1 - std::pow(cfg.beta1, t));
      const double vhat = ve[i] / (1 - std::pow(cfg.beta2, t));
      if (i < 20) pe[i] -= cfg.lr * cfg.weight_decay * pe[i];
      pe[i] -= cfg.lr * mhat / (std::sqrt(vhat) + cfg.eps);
    }
  }
  expect_close(p, pe, 1e-6, 1e-6, "adamw params");
  expect_close(m, me, 1e-6, 1e-5, "adamw m");
  expect_close(v, ve, 1e-6, 1e-5, "adamw v");
  for (size_t i = 30; i < n; ++i) {
    EXPECT_EQ(p[i], static_cast<float>(p0[i])) << "outside every range: untouched";
    EXPECT_EQ(m[i], 0.0f);
  }
}

TEST(KernelGradNorm, SumOfSquaresAndClipping) {
  const size_t n = 100003;  // odd: uneven thread chunks
  const auto g = random_vec(n, 71, -0.01, 0.01);
  const auto gf = to_float(g);
  double direct = 0.0;
  for (double x : g) direct += x * x;
  for (int threads : {1, 2, 3}) {
    ScopedThreads scoped(threads);
    EXPECT_NEAR(cpu::grad_sum_squares(gf.data(), n), direct, 1e-12 * direct) << threads;
  }
  const double norm = std::sqrt(direct);
  const float max_norm = static_cast<float>(norm / 4);
  const float s = cpu::grad_clip_scale(norm, max_norm);
  EXPECT_NEAR(s, max_norm / (norm + 1e-6), 1e-7);
  std::vector<float> clipped(gf);
  cpu::scale_inplace(clipped.data(), n, s);
  EXPECT_NEAR(std::sqrt(cpu::grad_sum_squares(clipped.data(), n)), max_norm, 1e-5 * max_norm);
  EXPECT_EQ(cpu::grad_clip_scale(norm, static_cast<float>(norm * 2)), 1.0f);  // below: no clip
  EXPECT_EQ(cpu::grad_clip_scale(norm, 0.0f), 1.0f);                          // disabled
  EXPECT_EQ(cpu::grad_sum_squares(gf.data(), 0), 0.0);
}

}  // namespace
}  // namespace weft
