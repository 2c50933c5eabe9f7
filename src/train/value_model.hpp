// PPO's critic: a GPT whose final hidden state feeds a scalar head per token,
// V(s_t) = w·h_t + b, initialised from the reward model (its transformer and head).
// The value of response token j is read at the position before it (the state the
// token is chosen in), like the policy's log-probability. Owns the model, the head,
// their gradients and AdamW state. One thread drives it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/aligned_buffer.hpp"
#include "kernels/cpu/adamw.hpp"
#include "model/gpt_model.hpp"
#include "train/adamw_optimizer.hpp"
#include "train/response_batch.hpp"

namespace weft::train {

class ValueModel {
 public:
  // params: config.num_params() floats; head: C weights then the bias (C + 1).
  // training = false: scoring only (no gradients, no optimizer state).
  ValueModel(const model::GptConfig& config, const float* params, std::span<const float> head,
             int B, int T, bool training = true);

  model::GptModel& model() { return model_; }
  std::span<const float> head() const { return head_; }

  // Values (total_response) of every response token's state.
  void values(const ResponseBatch& batch, std::span<float> out);
  // Scores (B) of whole sequences: the head on each row's last token (the reward
  // model's reading).
  void last_token_scores(const ResponseBatch& batch, std::span<float> out);
  // After values() on the same batch: zero the gradients, backpropagate dvalues
  // (total_response) into the transformer and the head.
  void backward(const ResponseBatch& batch, std::span<const float> dvalues);
  // Σ g² over the transformer and head gradients.
  double grad_sum_squares() const;
  // AdamW step on the transformer and the head (grads × grad_scale).
  void optimizer_step(const cpu::AdamWConfig& config, float grad_scale);
  // The head's gradient (C + 1), e.g. for a data-parallel all-reduce.
  std::span<float> head_grad() { return std::span<float>(head_grad_.data(), head_grad_.size()); }

 private:
  model::GptModel model_;
  std::unique_ptr<AdamWOptimizer> optimizer_;  // null when !training
  std::vector<float> head_, head_grad_, head_m_, head_v_;  // (C + 1)
  std::int64_t head_t_ = 0;
  AlignedBuffer<float> dhidden_;  // (B, T, C)
};

}  // namespace weft::train
