// PPO for a language-model policy (Ouyang et al. 2022; DeepSpeed-Chat step 3): one
// step = a rollout batch of sampled responses scored by the reward function, per-token
// rewards score − β·KL(actor‖ref), GAE advantages from the critic's values, then
// several epochs of clipped policy and value updates over minibatches.
// Rollouts come through a RolloutFn (train/ cannot see infer/; infer/rlhf_stage wires
// the KV-cache engine in). Holds references to the models (owned by the caller) and
// owns the actor's optimizer state. One thread drives it.
// Data parallel: with a communicator, each rank rolls out its own prompts and the
// actor's and critic's gradients are averaged across ranks before each update.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/aligned_buffer.hpp"
#include "model/gpt_model.hpp"
#include "parallel/comm/communicator.hpp"
#include "train/adamw_optimizer.hpp"
#include "train/response_batch.hpp"
#include "train/value_model.hpp"

namespace weft::train {

// One sampled response per prompt from the policy with weights `params` (ParamLayout
// order). Each response is non-empty; when generation stopped at the stop token,
// that token is its last token.
using RolloutFn = std::function<std::vector<std::vector<std::int32_t>>(
    const float* params, std::span<const std::vector<std::int32_t>> prompts, std::uint64_t seed)>;
// Sequence scores (B) of a packed batch (the frozen reward model).
using RewardFn = std::function<void(const ResponseBatch& batch, std::span<float> scores)>;

struct PpoOptions {
  float kl_beta = 0.05f;    // β of the per-token KL penalty
  float gamma = 1.0f;       // discount
  float lambda = 0.95f;     // GAE λ
  float clip = 0.2f;        // policy ratio clip ε
  float value_clip = 0.2f;  // value clip ε
  float value_coef = 1.0f;  // critic loss scale
  int epochs = 2;           // PPO epochs per rollout batch
  int minibatch = 4;        // rows per update
  double lr = 1e-5;         // actor
  double critic_lr = 5e-5;
  float grad_clip = 1.0f;
  bool whiten_advantages = true;
  std::uint64_t seed = 1;
};

struct PpoStats {
  double reward = 0.0;        // mean reward-model score of the rollouts
  double kl = 0.0;            // mean over responses of Σ_t (logp − ref_logp), rollout policy
  double entropy = 0.0;       // mean per-token entropy of the rollout policy
  double clip_fraction = 0.0; // mean over updates
  double value_loss = 0.0;    // mean over updates
  double policy_loss = 0.0;   // mean over updates
  double approx_kl = 0.0;     // mean over updates: KL(old‖new) estimate
  double response_len = 0.0;  // mean tokens per response
  double ms_rollout = 0.0, ms_update = 0.0;
};

class PpoTrainer {
 public:
  // actor: training model with activations for minibatch × max_seq rows; ref: the
  // frozen reference, same config (inference model is fine); critic from the reward
  // model. comm may be nullptr (single rank).
  PpoTrainer(model::GptModel& actor, model::GptModel& ref, ValueModel& critic, RolloutFn rollout,
             RewardFn reward, const PpoOptions& options, comm::Communicator* comm = nullptr);

  // One PPO iteration on this rank's prompts (a multiple of the minibatch is best;
  // the last minibatch may be smaller).
  PpoStats step(std::span<const std::vector<std::int32_t>> prompts, int step_index);

 private:
  void average_grads(float* grads, std::size_t n, const char* what);

  model::GptModel& actor_;
  model::GptModel& ref_;
  ValueModel& critic_;
  RolloutFn rollout_;
  RewardFn reward_;
  PpoOptions o_;
  comm::Communicator* comm_;
  AdamWOptimizer actor_opt_;
  AlignedBuffer<float> dlogits_;
};

}  // namespace weft::train
