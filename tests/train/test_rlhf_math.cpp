// RLHF maths against independent references: GAE against the advantage's direct
// sum Σ_l (γλ)^l δ_{t+l}; the policy, value and DPO losses' gradients against
// central finite differences; the DPO loss against −log σ written out; token
// log-probabilities and entropy against a plain softmax; the KL penalty is 0 when
// the actor equals the reference.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/rng.hpp"
#include "train/rlhf_math.hpp"

namespace weft::train {
namespace {

std::vector<float> random_vec(Rng& rng, std::size_t n, float scale) {
  std::vector<float> v(n);
  for (float& x : v) x = scale * rng.normal();
  return v;
}

TEST(RlhfMath, GaeMatchesDirectSum) {
  Rng rng(3);
  const std::size_t n = 9;
  const float gamma = 0.95f, lambda = 0.8f;
  const std::vector<float> r = random_vec(rng, n, 1.0f), v = random_vec(rng, n, 1.0f);
  std::vector<float> adv(n), ret(n);
  gae(adv, ret, r, v, gamma, lambda);
  for (std::size_t t = 0; t < n; ++t) {
    double direct = 0.0;
    for (std::size_t l = 0; t + l < n; ++l) {
      const double v_next = t + l + 1 < n ? v[t + l + 1] : 0.0;
      const double delta = r[t + l] + gamma * v_next - v[t + l];
      direct += std::pow(static_cast<double>(gamma) * lambda, static_cast<double>(l)) * delta;
    }
    EXPECT_NEAR(adv[t], direct, 1e-5) << "t=" << t;
    EXPECT_NEAR(ret[t], direct + v[t], 1e-5) << "t=" << t;
  }
  // λ = 1, γ = 1: the advantage is the plain return-to-go minus the value.
  gae(adv, ret, r, v, 1.0f, 1.0f);
  double to_go = 0.0;
  for (std::size_t t = n; t-- > 0;) {
    to_go += r[t];
    EXPECT_NEAR(ret[t], to_go, 1e-5);
  }
}

TEST(RlhfMath, KlRewardZeroWhenActorIsReference) {
  const std::vector<float> lp = {-1.0f, -2.5f, -0.3f};
  std::vector<float> rew(3);
  rlhf_token_rewards(rew, lp, lp, 2.0f, 0.1f);
  EXPECT_EQ(rew[0], 0.0f);
  EXPECT_EQ(rew[1], 0.0f);
  EXPECT_EQ(rew[2], 2.0f);
  const std::vector<float> ref = {-1.5f, -2.5f, -0.1f};
  rlhf_token_rewards(rew, lp, ref, 2.0f, 0.1f);
  EXPECT_NEAR(rew[0], -0.05f, 1e-7);
  EXPECT_NEAR(rew[2], 2.0f + 0.02f, 1e-6);
}

TEST(RlhfMath, PolicyLossGradientMatchesFiniteDifferences) {
  Rng rng(11);
  const std::size_t n = 40;
  const std::vector<float> old_lp = random_vec(rng, n, 1.0f), adv = random_vec(rng, n, 1.0f);
  std::vector<float> lp(n);
  for (std::size_t t = 0; t < n; ++t) lp[t] = old_lp[t] + 0.4f * rng.normal();
  const float eps_clip = 0.2f;
  std::vector<float> d(n), scratch(n);
  const PolicyLoss base = ppo_policy_loss(d, lp, old_lp, adv, eps_clip, 1.0f);
  EXPECT_GT(base.clip_fraction, 0.0);  // both branches are exercised
  EXPECT_LT(base.clip_fraction, 1.0);
  const double h = 1e-3;
  for (std::size_t t = 0; t < n; ++t) {
    const double ratio = std::exp(static_cast<double>(lp[t]) - old_lp[t]);
    if (std::abs(std::abs(ratio - 1.0) - eps_clip) < 0.01) continue;  // kink
    std::vector<float> p = lp, m = lp;
    p[t] += static_cast<float>(h);
    m[t] -= static_cast<float>(h);
    const double fp = ppo_policy_loss(scratch, p, old_lp, adv, eps_clip, 1.0f).loss;
    const double fm = ppo_policy_loss(scratch, m, old_lp, adv, eps_clip, 1.0f).loss;
    EXPECT_NEAR(d[t], (fp - fm) / (2 * h), 2e-5) << "t=" << t;
  }
  // Clip fraction by hand: ratio 1.5 with A > 0 is clipped, with A < 0 it is not.
  const std::vector<float> one_old = {0.0f, 0.0f}, one_new = {std::log(1.5f), std::log(1.5f)};
  const std::vector<float> a2 = {1.0f, -1.0f};
  std::vector<float> d2(2);
  const PolicyLoss c = ppo_policy_loss(d2, one_new, one_old, a2, 0.2f, 1.0f);
  EXPECT_DOUBLE_EQ(c.clip_fraction, 0.5);
  EXPECT_NEAR(c.loss, 0.5 * (-1.2 + 1.5), 1e-6);
  EXPECT_EQ(d2[0], 0.0f);
  EXPECT_NEAR(d2[1], 0.5 * 1.5, 1e-6);
}

TEST(RlhfMath, ValueLossGradientMatchesFiniteDifferences) {
  Rng rng(12);
  const std::size_t n = 40;
  const std::vector<float> old_v = random_vec(rng, n, 1.0f), ret = random_vec(rng, n, 1.0f);
  std::vector<float> v(n);
  for (std::size_t t = 0; t < n; ++t) v[t] = old_v[t] + 0.4f * rng.normal();
  std::vector<float> d(n), scratch(n);
  ppo_value_loss(d, v, old_v, ret, 0.2f, 1.0f);
  const double h = 1e-3;
  int zero_grads = 0;
  for (std::size_t t = 0; t < n; ++t) {
    if (std::abs(std::abs(v[t] - old_v[t]) - 0.2f) < 0.01f) continue;
    std::vector<float> p = v, m = v;
    p[t] += static_cast<float>(h);
    m[t] -= static_cast<float>(h);
    const double fd = (ppo_value_loss(scratch, p, old_v, ret, 0.2f, 1.0f) -
                       ppo_value_loss(scratch, m, old_v, ret, 0.2f, 1.0f)) / (2 * h);
    EXPECT_NEAR(d[t], fd, 2e-5) << "t=" << t;
    zero_grads += d[t] == 0.0f;
  }
  EXPECT_GT(zero_grads, 0);  // the clipped branch is exercised
}

TEST(RlhfMath, DpoLossClosedFormAndGradient) {
  const double pc = -10.0, pr = -12.0, rc = -11.0, rr = -11.5;
  const float beta = 0.3f;
  const DpoLoss r = dpo_loss(pc, pr, rc, rr, beta);
  const double margin = (pc - rc) - (pr - rr);
  EXPECT_NEAR(r.margin, margin, 1e-12);
  EXPECT_NEAR(r.loss, -std::log(1.0 / (1.0 + std::exp(-beta * margin))), 1e-12);
  const double h = 1e-5;
  EXPECT_NEAR(r.d_chosen,
              (dpo_loss(pc + h, pr, rc, rr, beta).loss - dpo_loss(pc - h, pr, rc, rr, beta).loss) /
                  (2 * h),
              1e-8);
  EXPECT_NEAR(r.d_rejected,
              (dpo_loss(pc, pr + h, rc, rr, beta).loss - dpo_loss(pc, pr - h, rc, rr, beta).loss) /
                  (2 * h),
              1e-8);
  // At the reference the loss is log 2, whatever β.
  EXPECT_NEAR(dpo_loss(-3, -4, -3, -4, 0.1f).loss, std::log(2.0), 1e-12);
  // Large margins stay finite.
  EXPECT_TRUE(std::isfinite(dpo_loss(0, -1e4, 0, 0, 1.0f).loss));
  EXPECT_TRUE(std::isfinite(dpo_loss(-1e4, 0, 0, 0, 1.0f).loss));
}

TEST(RlhfMath, TokenStatsAndLogprobGradient) {
  Rng rng(13);
  const std::size_t V = 17;
  const std::vector<float> logits = random_vec(rng, V, 2.0f);
  double z = 0.0;
  for (float x : logits) z += std::exp(static_cast<double>(x));
  double entropy = 0.0;
  for (float x : logits) {
    const double p = std::exp(static_cast<double>(x)) / z;
    entropy -= p * std::log(p);
  }
  const TokenStats s = token_stats(logits, 5);
  EXPECT_NEAR(s.logp, logits[5] - std::log(z), 1e-9);
  EXPECT_NEAR(s.entropy, entropy, 1e-9);
  std::vector<float> d(V, 0.0f);
  logprob_grad_add(d, logits, 5, 0.7f);
  for (std::size_t j = 0; j < V; ++j) {
    std::vector<float> p = logits, m = logits;
    p[j] += 1e-2f;
    m[j] -= 1e-2f;
    const double fd = 0.7 * (token_stats(p, 5).logp - token_stats(m, 5).logp) / 2e-2;
    EXPECT_NEAR(d[j], fd, 1e-4) << "j=" << j;
  }
}

}  // namespace
}  // namespace weft::train
