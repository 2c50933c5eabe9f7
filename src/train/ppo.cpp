// PPO iteration: rollout, scoring, GAE, clipped updates. See ppo.hpp.
#include "train/ppo.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/timer.hpp"
#include "kernels/cpu/grad_norm.hpp"
#include "train/rlhf_math.hpp"

namespace weft::train {
namespace {

// One minibatch of the rollout: its packed rows and where its tokens start in the
// rollout's flat per-token arrays.
struct Minibatch {
  ResponseBatch batch;
  std::size_t base = 0;
};

template <class T>
std::span<T> slice(std::vector<T>& v, std::size_t base, int n) {
  return std::span<T>(v.data() + base, static_cast<std::size_t>(n));
}

}  // namespace

PpoTrainer::PpoTrainer(model::GptModel& actor, model::GptModel& ref, ValueModel& critic,
                       RolloutFn rollout, RewardFn reward, const PpoOptions& options,
                       comm::Communicator* comm)
    : actor_(actor), ref_(ref), critic_(critic), rollout_(std::move(rollout)),
      reward_(std::move(reward)), o_(options), comm_(comm), actor_opt_(actor.layout()) {
  WEFT_CHECK(o_.minibatch >= 1 && o_.epochs >= 1);
  WEFT_CHECK(o_.minibatch <= actor.max_batch());
}

void PpoTrainer::average_grads(float* grads, std::size_t n, const char* what) {
  if (comm_ == nullptr || comm_->size() == 1) return;
  comm_->all_reduce(std::span<float>(grads, n), comm::ReduceOp::kSum, what);
  cpu::scale_inplace(grads, n, 1.0f / static_cast<float>(comm_->size()));
}

PpoStats PpoTrainer::step(std::span<const std::vector<std::int32_t>> prompts, int step_index) {
  PpoStats s;
  const int n_rows = static_cast<int>(prompts.size());
  WEFT_CHECK(n_rows >= 1);
  const int max_seq = actor_.max_seq();
  Stopwatch watch;

  // --- rollout: sample, then score every token with the rollout policy, the
  // reference, the critic and (per sequence) the reward model.
  const std::uint64_t seed =
      o_.seed * 1000003ull + static_cast<std::uint64_t>(step_index) * 7919ull +
      static_cast<std::uint64_t>(comm_ ? comm_->rank() : 0) * 104729ull;
  const std::vector<std::vector<std::int32_t>> responses = rollout_(actor_.params(), prompts, seed);
  WEFT_CHECK(static_cast<int>(responses.size()) == n_rows);
  std::vector<Minibatch> mbs;
  std::size_t total = 0;
  for (int r0 = 0; r0 < n_rows; r0 += o_.minibatch) {
    const int r1 = std::min(n_rows, r0 + o_.minibatch);
    Minibatch mb;
    mb.batch = response_batch_pack(prompts.subspan(static_cast<std::size_t>(r0), r1 - r0),
                                   std::span(responses).subspan(static_cast<std::size_t>(r0), r1 - r0),
                                   max_seq);
    mb.base = total;
    total += static_cast<std::size_t>(mb.batch.total_response());
    mbs.push_back(std::move(mb));
  }
  std::vector<float> old_logp(total), ref_logp(total), old_values(total), entropy(total);
  std::vector<float> rewards(total), adv(total), returns(total);
  double score_sum = 0.0, kl_sum = 0.0;
  for (Minibatch& mb : mbs) {
    const ResponseBatch& b = mb.batch;
    const int n = b.total_response();
    response_logprobs(actor_, b, slice(old_logp, mb.base, n), slice(entropy, mb.base, n));
    response_logprobs(ref_, b, slice(ref_logp, mb.base, n));
    critic_.values(b, slice(old_values, mb.base, n));
    std::vector<float> scores(static_cast<std::size_t>(b.B));
    reward_(b, scores);
    for (int r = 0; r < b.B; ++r) {
      const std::size_t o = mb.base + static_cast<std::size_t>(b.offset[r]);
      const int len = b.response_len[r];
      rlhf_token_rewards(slice(rewards, o, len), slice(old_logp, o, len), slice(ref_logp, o, len),
                         scores[static_cast<std::size_t>(r)], o_.kl_beta);
      gae(slice(adv, o, len), slice(returns, o, len), slice(rewards, o, len),
          slice(old_values, o, len), o_.gamma, o_.lambda);
      score_sum += scores[static_cast<std::size_t>(r)];
      for (int j = 0; j < len; ++j) kl_sum += static_cast<double>(old_logp[o + j]) - ref_logp[o + j];
    }
  }
  if (o_.whiten_advantages) whiten(adv);
  s.reward = score_sum / n_rows;
  s.kl = kl_sum / n_rows;
  s.entropy = std::accumulate(entropy.begin(), entropy.end(), 0.0) / static_cast<double>(total);
  s.response_len = static_cast<double>(total) / n_rows;
  s.ms_rollout = watch.ms();

  // --- updates: epochs × minibatches (order reshuffled each epoch).
  Stopwatch update_watch;
  std::vector<float> logp(total), values(total), dlogp(total), dvalues(total);
  std::vector<int> order(mbs.size());
  std::iota(order.begin(), order.end(), 0);
  Rng rng(seed ^ 0x9e3779b97f4a7c15ull);
  int updates = 0;
  cpu::AdamWConfig actor_adam, critic_adam;
  actor_adam.lr = o_.lr;
  critic_adam.lr = o_.critic_lr;
  for (int epoch = 0; epoch < o_.epochs; ++epoch) {
    for (std::size_t i = order.size(); i > 1; --i)
      std::swap(order[i - 1], order[rng.below(static_cast<std::uint64_t>(i))]);
    for (int k : order) {
      const Minibatch& mb = mbs[static_cast<std::size_t>(k)];
      const ResponseBatch& b = mb.batch;
      const int n = b.total_response();
      // Policy.
      actor_.zero_grad();
      response_logprobs(actor_, b, slice(logp, mb.base, n));
      const PolicyLoss pl =
          ppo_policy_loss(slice(dlogp, mb.base, n), slice(logp, mb.base, n),
                          slice(old_logp, mb.base, n), slice(adv, mb.base, n), o_.clip, 1.0f);
      response_logprob_backward(actor_, b, slice(dlogp, mb.base, n), dlogits_);
      average_grads(actor_.grads(), actor_.num_params(), "ppo actor grads");
      const double norm = std::sqrt(cpu::grad_sum_squares(actor_.grads(), actor_.num_params()));
      actor_opt_.step(actor_.params(), actor_.grads(), actor_adam,
                      cpu::grad_clip_scale(norm, o_.grad_clip));
      // Critic.
      critic_.values(b, slice(values, mb.base, n));
      const double vl =
          ppo_value_loss(slice(dvalues, mb.base, n), slice(values, mb.base, n),
                         slice(old_values, mb.base, n), slice(returns, mb.base, n), o_.value_clip,
                         o_.value_coef);
      critic_.backward(b, slice(dvalues, mb.base, n));
      average_grads(critic_.model().grads(), critic_.model().num_params(), "ppo critic grads");
      average_grads(critic_.head_grad().data(), critic_.head_grad().size(), "ppo critic head");
      const double cnorm = std::sqrt(critic_.grad_sum_squares());
      critic_.optimizer_step(critic_adam, cpu::grad_clip_scale(cnorm, o_.grad_clip));
      s.policy_loss += pl.loss;
      s.clip_fraction += pl.clip_fraction;
      s.approx_kl += pl.approx_kl;
      s.value_loss += vl;
      ++updates;
    }
  }
  s.policy_loss /= updates;
  s.clip_fraction /= updates;
  s.approx_kl /= updates;
  s.value_loss /= updates;
  if (comm_ != nullptr && comm_->size() > 1) {
    double m[8] = {s.reward, s.kl, s.entropy, s.clip_fraction, s.value_loss, s.policy_loss,
                   s.approx_kl, s.response_len};
    comm_->all_reduce(std::span<double>(m, 8), comm::ReduceOp::kSum, "ppo metrics");
    const double w = 1.0 / comm_->size();
    s.reward = m[0] * w, s.kl = m[1] * w, s.entropy = m[2] * w, s.clip_fraction = m[3] * w;
    s.value_loss = m[4] * w, s.policy_loss = m[5] * w, s.approx_kl = m[6] * w;
    s.response_len = m[7] * w;
  }
  s.ms_update = update_watch.ms();
  return s;
}

}  // namespace weft::train
