// RLHF losses through a real (tiny) GPT: the gradients that PPO's clipped policy
// loss, DPO's loss and the critic's clipped value loss put into the parameters agree
// with central finite differences of the loss (directional derivative along the
// gradient, and single coordinates with the largest gradient).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <vector>

#include "core/rng.hpp"
#include "model/gpt_model.hpp"
#include "train/dpo.hpp"
#include "train/response_batch.hpp"
#include "train/rlhf_math.hpp"
#include "train/value_model.hpp"

namespace weft::train {
namespace {

model::GptConfig tiny_config() {
  model::GptConfig c;
  c.n_layer = 1;
  c.n_head = 2;
  c.n_embd = 16;
  c.vocab = 23;
  c.padded_vocab = model::pad_vocab(c.vocab);
  c.max_seq = 16;
  return c;
}

// Rows of random prompts/responses over the vocabulary.
void random_rows(Rng& rng, int rows, std::vector<std::vector<std::int32_t>>& prompts,
                 std::vector<std::vector<std::int32_t>>& responses, int V) {
  for (int r = 0; r < rows; ++r) {
    std::vector<std::int32_t> p(2 + rng.below(3)), q(2 + rng.below(5));
    for (auto& t : p) t = static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(V)));
    for (auto& t : q) t = static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(V)));
    prompts.push_back(p);
    responses.push_back(q);
  }
}

// Checks grads (n) of loss() at params against central differences:
// along the normalised gradient direction, and on the 12 largest coordinates.
void check_gradient(float* params, const float* grads, std::size_t n,
                    const std::function<double()>& loss) {
  std::vector<float> g(grads, grads + n);
  double norm2 = 0.0;
  for (float x : g) norm2 += static_cast<double>(x) * x;
  const double norm = std::sqrt(norm2);
  ASSERT_GT(norm, 1e-6);
  const double h = 1e-3;
  std::vector<float> saved(params, params + n);
  auto eval_at = [&](const std::function<void(std::vector<float>&)>& move) {
    std::vector<float> p = saved;
    move(p);
    std::copy(p.begin(), p.end(), params);
    return loss();
  };
  const double fp = eval_at([&](std::vector<float>& p) {
    for (std::size_t i = 0; i < n; ++i) p[i] += static_cast<float>(h * g[i] / norm);
  });
  const double fm = eval_at([&](std::vector<float>& p) {
    for (std::size_t i = 0; i < n; ++i) p[i] -= static_cast<float>(h * g[i] / norm);
  });
  EXPECT_NEAR((fp - fm) / (2 * h), norm, 0.03 * norm) << "directional derivative";
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::partial_sort(idx.begin(), idx.begin() + 12, idx.end(),
                    [&](std::size_t a, std::size_t b) { return std::abs(g[a]) > std::abs(g[b]); });
  for (int k = 0; k < 12; ++k) {
    const std::size_t i = idx[static_cast<std::size_t>(k)];
    const double hp = eval_at([&](std::vector<float>& p) { p[i] += static_cast<float>(h); });
    const double hm = eval_at([&](std::vector<float>& p) { p[i] -= static_cast<float>(h); });
    const double fd = (hp - hm) / (2 * h);
    EXPECT_NEAR(g[i], fd, 0.05 * std::abs(g[i]) + 1e-4) << "param " << i;
  }
  std::copy(saved.begin(), saved.end(), params);
}

TEST(RlhfModel, PolicyLossGradientMatchesFiniteDifferences) {
  const model::GptConfig c = tiny_config();
  model::GptModel m(c, 4, c.max_seq, true);
  m.init_weights(3);
  for (std::size_t i = 0; i < m.num_params(); ++i) m.params()[i] *= 4.0f;  // O(1) logits
  Rng rng(21);
  std::vector<std::vector<std::int32_t>> prompts, responses;
  random_rows(rng, 4, prompts, responses, c.vocab);
  const ResponseBatch b = response_batch_pack(prompts, responses, c.max_seq);
  const std::size_t n = static_cast<std::size_t>(b.total_response());
  std::vector<float> logp(n), old_logp(n), adv(n), dlogp(n), scratch(n);
  response_logprobs(m, b, logp);
  for (std::size_t t = 0; t < n; ++t) {
    old_logp[t] = logp[t] + 0.08f * rng.normal();
    adv[t] = rng.normal();
  }
  auto loss = [&]() {
    response_logprobs(m, b, logp);
    return ppo_policy_loss(scratch, logp, old_logp, adv, 0.2f, 1.0f).loss;
  };
  loss();
  ppo_policy_loss(dlogp, logp, old_logp, adv, 0.2f, 1.0f);
  m.zero_grad();
  AlignedBuffer<float> dlogits;
  response_logprob_backward(m, b, dlogp, dlogits);
  check_gradient(m.params(), m.grads(), m.num_params(), loss);
}

TEST(RlhfModel, DpoLossGradientMatchesFiniteDifferences) {
  const model::GptConfig c = tiny_config();
  model::GptModel policy(c, 6, c.max_seq, true), ref(c, 6, c.max_seq, false);
  policy.init_weights(4);
  ref.init_weights(5);
  for (std::size_t i = 0; i < policy.num_params(); ++i) {
    policy.params()[i] *= 4.0f;
    ref.params()[i] *= 4.0f;
  }
  Rng rng(22);
  std::vector<std::vector<std::int32_t>> prompts, chosen, rejected, unused;
  random_rows(rng, 3, prompts, chosen, c.vocab);
  random_rows(rng, 3, unused, rejected, c.vocab);
  std::vector<PreferencePair> pairs;
  for (int i = 0; i < 3; ++i) pairs.push_back({prompts[i], chosen[i], rejected[i]});
  AlignedBuffer<float> dlogits;
  const float beta = 0.5f;
  policy.zero_grad();
  const DpoStats s = dpo_forward(policy, ref, pairs, beta, 1.0f / 3.0f, true, dlogits);
  EXPECT_GT(s.loss, 0.0);
  check_gradient(policy.params(), policy.grads(), policy.num_params(), [&]() {
    return dpo_forward(policy, ref, pairs, beta, 0.0f, false, dlogits).loss / 3.0;
  });
  // With the NLL term on the chosen replies (RPO): the gradient of loss + α·sft_loss.
  const float alpha = 0.7f;
  policy.zero_grad();
  const DpoStats sa = dpo_forward(policy, ref, pairs, beta, 1.0f / 3.0f, true, dlogits, alpha);
  EXPECT_DOUBLE_EQ(sa.loss, s.loss);
  EXPECT_GT(sa.sft_loss, 0.0);
  check_gradient(policy.params(), policy.grads(), policy.num_params(), [&]() {
    const DpoStats f = dpo_forward(policy, ref, pairs, beta, 0.0f, false, dlogits, alpha);
    return (f.loss + alpha * f.sft_loss) / 3.0;
  });
  // Against the reference itself every margin is 0: loss log 2 per pair.
  model::GptModel same(c, 6, c.max_seq, false);
  std::copy(policy.params(), policy.params() + policy.num_params(), same.params());
  const DpoStats z = dpo_forward(policy, same, pairs, beta, 0.0f, false, dlogits);
  EXPECT_NEAR(z.loss, 3 * std::log(2.0), 1e-9);
  EXPECT_EQ(z.reward_margin, 0.0);
}

TEST(RlhfModel, ValueLossGradientMatchesFiniteDifferences) {
  const model::GptConfig c = tiny_config();
  model::GptModel init(c, 1, c.max_seq, false);
  init.init_weights(6);
  for (std::size_t i = 0; i < init.num_params(); ++i) init.params()[i] *= 4.0f;
  Rng rng(23);
  std::vector<float> head(static_cast<std::size_t>(c.n_embd) + 1);
  for (float& h : head) h = 0.5f * rng.normal();
  ValueModel critic(c, init.params(), head, 4, c.max_seq);
  std::vector<std::vector<std::int32_t>> prompts, responses;
  random_rows(rng, 4, prompts, responses, c.vocab);
  const ResponseBatch b = response_batch_pack(prompts, responses, c.max_seq);
  const std::size_t n = static_cast<std::size_t>(b.total_response());
  std::vector<float> v(n), old_v(n), ret(n), dv(n), scratch(n);
  critic.values(b, v);
  for (std::size_t t = 0; t < n; ++t) {
    old_v[t] = v[t] + 0.1f * rng.normal();
    ret[t] = v[t] + rng.normal();
  }
  auto loss = [&]() {
    critic.values(b, v);
    return ppo_value_loss(scratch, v, old_v, ret, 0.2f, 1.0f);
  };
  loss();
  ppo_value_loss(dv, v, old_v, ret, 0.2f, 1.0f);
  critic.backward(b, dv);
  model::GptModel& m = critic.model();
  check_gradient(m.params(), m.grads(), m.num_params(), loss);
  // The head's gradient: its bias gets Σ dv.
  double sum_dv = 0.0;
  for (float x : dv) sum_dv += x;
  EXPECT_NEAR(critic.head_grad()[static_cast<std::size_t>(c.n_embd)], sum_dv, 1e-5);
}

}  // namespace
}  // namespace weft::train
