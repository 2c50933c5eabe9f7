// Direct Preference Optimisation (Rafailov et al. 2023) on {prompt, chosen, rejected}
// pairs against a frozen reference: loss −log σ(β·((logπ(c) − logπref(c)) −
// (logπ(r) − logπref(r)))), sequence log-probabilities summed over the response.
// One step packs this rank's pairs as 2·n rows (chosen rows, then rejected rows) in
// one forward and one backward. Holds references to the models and the optional
// DataParallel (owned by the caller; zero 0: gradients summed across ranks, each
// rank scaling by 1/global pairs, so the sum is the global mean's gradient).
// One thread drives it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/aligned_buffer.hpp"
#include "model/gpt_model.hpp"
#include "train/adamw_optimizer.hpp"
#include "train/lr_schedule.hpp"

namespace weft::parallel {
class DataParallel;
}

namespace weft::train {

// Token ids; chosen and rejected end with the end-of-turn token.
struct PreferencePair {
  std::vector<std::int32_t> prompt, chosen, rejected;
};

struct DpoOptions {
  float beta = 0.1f;
  // α of an added NLL term on the chosen reply, α·(−log π(c))/|c| per pair (the "RPO"
  // variant): keeps the chosen answers likely while DPO pushes the rejected ones down
  // (plain DPO on a tiny model lowers both and derails greedy answers). 0 = plain DPO.
  float sft_weight = 0.0f;
  float grad_clip = 1.0f;
  double weight_decay = 0.0;
};

struct DpoStats {
  double loss = 0.0;             // mean −log σ(β·margin)
  double sft_loss = 0.0;         // mean −log π(c)/|c| (per token of the chosen reply)
  double reward_margin = 0.0;    // mean β·margin (implicit reward of chosen − rejected)
  double chosen_reward = 0.0;    // mean β·(logπ(c) − logπref(c))
  double rejected_reward = 0.0;  // mean β·(logπ(r) − logπref(r))
  double accuracy = 0.0;         // fraction of pairs with margin > 0
  double policy_accuracy = 0.0;  // fraction with logπ(c) > logπ(r): the policy alone
                                 // prefers chosen (comparable across models)
  double grad_norm = 0.0;
  double lr = 0.0;
  int pairs = 0;  // pairs counted (global under DP)
};

// The DPO loss of pairs (2·n rows in one forward of each model; policy last, so its
// activations stay for backward). With backward, accumulates into policy.grads() the
// gradient of loss_scale · Σ_i loss_i. Returns sums (not means) over the pairs.
DpoStats dpo_forward(model::GptModel& policy, model::GptModel& ref,
                     std::span<const PreferencePair> pairs, float beta, float loss_scale,
                     bool backward, AlignedBuffer<float>& dlogits, float sft_weight = 0.0f);

class DpoTrainer {
 public:
  // policy: training model with room for 2·(pairs per step) rows; ref: same config.
  DpoTrainer(model::GptModel& policy, model::GptModel& ref, const DpoOptions& options,
             const LrSchedule& schedule, parallel::DataParallel* dp = nullptr);

  // One optimizer step on this rank's pairs; global_pairs = pairs over all ranks.
  DpoStats step(std::span<const PreferencePair> pairs, int global_pairs, int step_index);
  // Loss, margins and accuracy on pairs (no update), in chunks that fit the policy.
  // Under DP every rank passes its share; the result covers all of them.
  DpoStats evaluate(std::span<const PreferencePair> pairs);

 private:
  void reduce_stats(DpoStats& s);

  model::GptModel& policy_;
  model::GptModel& ref_;
  DpoOptions o_;
  LrSchedule schedule_;
  parallel::DataParallel* dp_;
  AdamWOptimizer optimizer_;
  AlignedBuffer<float> dlogits_;
};

}  // namespace weft::train
