// DPO steps and evaluation. See dpo.hpp.
#include "train/dpo.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "kernels/cpu/grad_norm.hpp"
#include "parallel/data_parallel.hpp"
#include "train/response_batch.hpp"
#include "train/rlhf_math.hpp"

namespace weft::train {

DpoTrainer::DpoTrainer(model::GptModel& policy, model::GptModel& ref, const DpoOptions& options,
                       const LrSchedule& schedule, parallel::DataParallel* dp)
    : policy_(policy),
      ref_(ref),
      o_(options),
      schedule_(schedule),
      dp_(dp),
      optimizer_(policy.layout()) {
  WEFT_CHECK(policy.max_batch() >= 2);
  WEFT_CHECK(dp == nullptr || dp->zero() == 0, "DPO runs data parallel with ZeRO-0 only");
}

DpoStats dpo_forward(model::GptModel& policy, model::GptModel& ref,
                     std::span<const PreferencePair> pairs, float beta, float loss_scale,
                     bool backward, AlignedBuffer<float>& dlogits, float sft_weight) {
  const std::size_t n = pairs.size();
  std::vector<std::vector<std::int32_t>> prompts, responses;
  for (const PreferencePair& p : pairs) prompts.push_back(p.prompt), responses.push_back(p.chosen);
  for (const PreferencePair& p : pairs)
    prompts.push_back(p.prompt), responses.push_back(p.rejected);
  const ResponseBatch b = response_batch_pack(prompts, responses, policy.max_seq());
  const std::size_t tokens = static_cast<std::size_t>(b.total_response());
  std::vector<float> logp(tokens), ref_logp(tokens), dlogp(tokens, 0.0f);
  std::vector<double> seq(2 * n), ref_seq(2 * n);
  response_logprobs(ref, b, ref_logp);
  response_sequence_sums(ref_logp, b, ref_seq);
  response_logprobs(policy, b, logp);  // last: backward needs the policy's activations
  response_sequence_sums(logp, b, seq);
  DpoStats s;
  for (std::size_t i = 0; i < n; ++i) {
    const DpoLoss l = dpo_loss(seq[i], seq[n + i], ref_seq[i], ref_seq[n + i], beta);
    s.loss += l.loss;
    s.reward_margin += beta * l.margin;
    s.chosen_reward += beta * (seq[i] - ref_seq[i]);
    s.rejected_reward += beta * (seq[n + i] - ref_seq[n + i]);
    s.accuracy += l.margin > 0 ? 1.0 : 0.0;
    s.policy_accuracy += seq[i] > seq[n + i] ? 1.0 : 0.0;
    // d(Σ loss)/d(logp_t) is the pair's d/d(sequence logp) for every token of the row.
    // The NLL term adds −α/|c| to d/d(logp_t) of each chosen token.
    const int len = b.offset[i + 1] - b.offset[i];
    const double d_sft = len > 0 ? -static_cast<double>(sft_weight) / len : 0.0;
    if (len > 0) s.sft_loss += -seq[i] / len;
    for (int k = b.offset[i]; k < b.offset[i + 1]; ++k)
      dlogp[static_cast<std::size_t>(k)] = static_cast<float>((l.d_chosen + d_sft) * loss_scale);
    for (int k = b.offset[n + i]; k < b.offset[n + i + 1]; ++k)
      dlogp[static_cast<std::size_t>(k)] = static_cast<float>(l.d_rejected * loss_scale);
  }
  s.pairs = static_cast<int>(n);
  if (backward) response_logprob_backward(policy, b, dlogp, dlogits);
  return s;
}

void DpoTrainer::reduce_stats(DpoStats& s) {
  // Sums in, means out.
  double m[8] = {s.loss,           s.reward_margin,
                 s.chosen_reward,  s.rejected_reward,
                 s.accuracy,       static_cast<double>(s.pairs),
                 s.policy_accuracy, s.sft_loss};
  if (dp_ != nullptr)
    dp_->comm().all_reduce(std::span<double>(m, 8), comm::ReduceOp::kSum, "dpo metrics");
  const double inv = m[5] > 0 ? 1.0 / m[5] : 0.0;
  s.policy_accuracy = m[6] * inv;
  s.sft_loss = m[7] * inv;
  s.loss = m[0] * inv, s.reward_margin = m[1] * inv, s.chosen_reward = m[2] * inv;
  s.rejected_reward = m[3] * inv, s.accuracy = m[4] * inv, s.pairs = static_cast<int>(m[5]);
}

DpoStats DpoTrainer::step(std::span<const PreferencePair> pairs, int global_pairs, int step_index) {
  WEFT_CHECK(!pairs.empty() && 2 * static_cast<int>(pairs.size()) <= policy_.max_batch());
  if (dp_) {
    dp_->set_step(step_index);
    dp_->begin_micro(true);
  }
  policy_.zero_grad();
  DpoStats s = dpo_forward(policy_, ref_, pairs, o_.beta, 1.0f / static_cast<float>(global_pairs),
                           true, dlogits_, o_.sft_weight);
  if (dp_) dp_->finish_grads();
  reduce_stats(s);
  s.grad_norm = std::sqrt(dp_ ? dp_->grad_sum_squares()
                              : cpu::grad_sum_squares(policy_.grads(), policy_.num_params()));
  cpu::AdamWConfig c;
  c.lr = s.lr = schedule_.at(step_index);
  c.weight_decay = o_.weight_decay;
  optimizer_.step(policy_.params(), policy_.grads(), c,
                  cpu::grad_clip_scale(s.grad_norm, o_.grad_clip));
  return s;
}

DpoStats DpoTrainer::evaluate(std::span<const PreferencePair> pairs) {
  DpoStats total;
  const std::size_t chunk = static_cast<std::size_t>(policy_.max_batch() / 2);
  for (std::size_t i = 0; i < pairs.size(); i += chunk) {
    const DpoStats s =
        dpo_forward(policy_, ref_, pairs.subspan(i, std::min(chunk, pairs.size() - i)), o_.beta,
                    0.0f, false, dlogits_);
    total.loss += s.loss, total.reward_margin += s.reward_margin;
    total.chosen_reward += s.chosen_reward, total.rejected_reward += s.rejected_reward;
    total.accuracy += s.accuracy, total.pairs += s.pairs;
    total.policy_accuracy += s.policy_accuracy;
    total.sft_loss += s.sft_loss;
  }
  reduce_stats(total);
  return total;
}

}  // namespace weft::train
