// A reward model (or PPO critic): the GPT transformer plus a scalar head on its final
// hidden state, r = w·h_t + b. score() reads it on a sequence's last token (the
// reward of a whole conversation); values() gives it at every position (a critic's
// per-token values). Saved as DIR/model.bin (llm.c) + DIR/reward_head.bin. Owns both;
// not thread-safe: one thread drives it (kernels use OpenMP inside).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/gpt_model.hpp"
#include "model/reward_head.hpp"

namespace weft::model {

class RewardModel {
 public:
  // Head zeroed (every score 0); load or init the transformer through gpt().
  RewardModel(const GptConfig& config, int B, int T, bool training = false);
  // DIR/model.bin + DIR/reward_head.bin; T = 0 means the model's max_seq.
  static std::unique_ptr<RewardModel> load(const std::string& dir, int B = 1, int T = 0,
                                           bool training = false);
  // Writes both files (atomically each).
  void save(const std::string& dir) const;

  GptModel& gpt() { return gpt_; }
  const GptModel& gpt() const { return gpt_; }
  RewardHead& head() { return head_; }
  const RewardHead& head() const { return head_; }
  float* head_grads() { return head_grads_.data(); }  // (C + 1), nullptr if !training

  // The score of one token sequence at its last token. Longer than the model's
  // capacity T: its last T tokens are scored. n >= 1.
  float score(const std::int32_t* tokens, int n);
  float score(const std::vector<std::int32_t>& tokens) {
    return score(tokens.data(), static_cast<int>(tokens.size()));
  }
  // Rows (B,T) right-padded (any token after the end): scores[b] = r at position
  // lengths[b] − 1 (1 <= lengths[b] <= T). Causal attention: padding changes nothing.
  void score_batch(const std::int32_t* tokens, const int* lengths, int B, int T, float* scores);
  // r at every position: values() (B,T) of this forward.
  void forward(const std::int32_t* tokens, int B, int T);
  const float* values() const { return values_.data(); }  // (B,T) of the last forward

  // Training model: accumulates (+=) into gpt().grads() and head_grads() the gradient
  // of Σ dvalues·values of the last forward (or score_batch: dvalues is then (B,T)
  // with the score's gradient at each row's last position and 0 elsewhere).
  void backward(const float* dvalues);
  void zero_grad();

 private:
  GptModel gpt_;
  RewardHead head_;
  AlignedBuffer<float> head_grads_;  // (C + 1)
  AlignedBuffer<float> values_;      // (B, T)
  AlignedBuffer<float> dhidden_;     // (B, T, C) training only
  int last_B_ = 0, last_T_ = 0;
};

}  // namespace weft::model
