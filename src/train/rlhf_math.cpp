// RLHF per-token maths. See rlhf_math.hpp.
#include "train/rlhf_math.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace weft::train {

void rlhf_token_rewards(std::span<float> rewards, std::span<const float> logp,
                        std::span<const float> ref_logp, float score, float beta) {
  WEFT_CHECK(rewards.size() == logp.size() && logp.size() == ref_logp.size());
  for (std::size_t t = 0; t < rewards.size(); ++t) rewards[t] = -beta * (logp[t] - ref_logp[t]);
  if (!rewards.empty()) rewards.back() += score;
}

void gae(std::span<float> advantages, std::span<float> returns, std::span<const float> rewards,
         std::span<const float> values, float gamma, float lambda) {
  const std::size_t n = rewards.size();
  WEFT_CHECK(advantages.size() == n && returns.size() == n && values.size() == n);
  double next_value = 0.0, next_adv = 0.0;
  for (std::size_t i = n; i-- > 0;) {
    const double delta = rewards[i] + gamma * next_value - values[i];
    next_adv = delta + static_cast<double>(gamma) * lambda * next_adv;
    advantages[i] = static_cast<float>(next_adv);
    returns[i] = static_cast<float>(next_adv + values[i]);
    next_value = values[i];
  }
}

void whiten(std::span<float> x) {
  if (x.empty()) return;
  double mean = 0.0;
  for (float v : x) mean += v;
  mean /= static_cast<double>(x.size());
  double var = 0.0;
  for (float v : x) var += (v - mean) * (v - mean);
  var /= static_cast<double>(x.size());
  const double inv = 1.0 / (std::sqrt(var) + 1e-8);
  for (float& v : x) v = static_cast<float>((v - mean) * inv);
}

PolicyLoss ppo_policy_loss(std::span<float> dlogp, std::span<const float> logp,
                           std::span<const float> old_logp, std::span<const float> advantages,
                           float clip_eps, float grad_scale) {
  const std::size_t n = logp.size();
  WEFT_CHECK(dlogp.size() == n && old_logp.size() == n && advantages.size() == n);
  PolicyLoss r;
  if (n == 0) return r;
  const double inv_n = 1.0 / static_cast<double>(n);
  for (std::size_t t = 0; t < n; ++t) {
    const double log_ratio = static_cast<double>(logp[t]) - old_logp[t];
    const double ratio = std::exp(log_ratio);
    const double a = advantages[t];
    const double unclipped = -a * ratio;
    const double clipped = -a * std::clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps);
    // The max takes the clipped term only where it is strictly larger; its gradient
    // is then 0 (the ratio sits outside 1 ± ε), else the unclipped term's −A·ρ.
    const bool clip_taken = clipped > unclipped;
    r.loss += std::max(unclipped, clipped);
    r.clip_fraction += clip_taken ? 1.0 : 0.0;
    r.approx_kl += -log_ratio;
    dlogp[t] = clip_taken ? 0.0f : static_cast<float>(-a * ratio * inv_n * grad_scale);
  }
  r.loss *= inv_n;
  r.clip_fraction *= inv_n;
  r.approx_kl *= inv_n;
  return r;
}

double ppo_value_loss(std::span<float> dvalues, std::span<const float> values,
                      std::span<const float> old_values, std::span<const float> returns,
                      float clip_eps, float grad_scale) {
  const std::size_t n = values.size();
  WEFT_CHECK(dvalues.size() == n && old_values.size() == n && returns.size() == n);
  if (n == 0) return 0.0;
  const double inv_n = 1.0 / static_cast<double>(n);
  double loss = 0.0;
  for (std::size_t t = 0; t < n; ++t) {
    const double v = values[t], v_old = old_values[t], ret = returns[t];
    const double v_clip = v_old + std::clamp(v - v_old, -static_cast<double>(clip_eps),
                                             static_cast<double>(clip_eps));
    const double l1 = (v - ret) * (v - ret), l2 = (v_clip - ret) * (v_clip - ret);
    loss += 0.5 * std::max(l1, l2);
    // Where the clipped term wins it is constant in v (v outside V_old ± ε).
    const double g = l2 > l1 ? 0.0 : (v - ret);
    dvalues[t] = static_cast<float>(g * inv_n * grad_scale);
  }
  return loss * inv_n;
}

DpoLoss dpo_loss(double logp_chosen, double logp_rejected, double ref_chosen, double ref_rejected,
                 float beta) {
  DpoLoss r;
  r.margin = (logp_chosen - ref_chosen) - (logp_rejected - ref_rejected);
  const double z = beta * r.margin;
  // −log σ(z) = softplus(−z), computed without overflow for large |z|.
  r.loss = z > 0 ? std::log1p(std::exp(-z)) : -z + std::log1p(std::exp(z));
  const double sig_neg = 1.0 / (1.0 + std::exp(z));  // σ(−z) = −d(loss)/dz
  r.d_chosen = -beta * sig_neg;
  r.d_rejected = beta * sig_neg;
  return r;
}

TokenStats token_stats(std::span<const float> logits, std::int32_t token) {
  WEFT_CHECK(token >= 0 && static_cast<std::size_t>(token) < logits.size());
  float mx = logits[0];
  for (float v : logits) mx = std::max(mx, v);
  double sum = 0.0, sum_zx = 0.0;
  for (float v : logits) {
    const double e = std::exp(static_cast<double>(v) - mx);
    sum += e;
    sum_zx += e * (static_cast<double>(v) - mx);
  }
  const double log_z = std::log(sum);
  TokenStats s;
  s.logp = static_cast<double>(logits[static_cast<std::size_t>(token)]) - mx - log_z;
  s.entropy = log_z - sum_zx / sum;  // −Σ p·(x − mx − log Z)
  return s;
}

void logprob_grad_add(std::span<float> dlogits, std::span<const float> logits, std::int32_t token,
                      float g) {
  WEFT_CHECK(dlogits.size() == logits.size());
  WEFT_CHECK(token >= 0 && static_cast<std::size_t>(token) < logits.size());
  float mx = logits[0];
  for (float v : logits) mx = std::max(mx, v);
  double sum = 0.0;
  for (float v : logits) sum += std::exp(static_cast<double>(v) - mx);
  const double inv = 1.0 / sum;
  for (std::size_t j = 0; j < logits.size(); ++j)
    dlogits[j] -= static_cast<float>(g * std::exp(static_cast<double>(logits[j]) - mx) * inv);
  dlogits[static_cast<std::size_t>(token)] += g;
}

}  // namespace weft::train
