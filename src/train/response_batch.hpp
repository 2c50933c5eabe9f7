// A batch of (prompt, response) token sequences packed for one model forward, and the
// two things RLHF needs of a policy on it: the log-probability (and entropy) of every
// response token, and the backward pass from a gradient on those log-probabilities.
// Response token j of row b sits at position prompt_len[b] + j and is predicted by the
// logits at the position before it. Owns its buffers; the model is the caller's. One
// thread drives it (the model's kernels use OpenMP inside).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/aligned_buffer.hpp"
#include "model/gpt_model.hpp"

namespace weft::train {

struct ResponseBatch {
  int B = 0;                          // rows
  int T = 0;                          // longest row (prompt + response)
  std::vector<std::int32_t> tokens;   // (B, T), rows padded with 0
  std::vector<int> prompt_len;        // (B) >= 1
  std::vector<int> response_len;      // (B) >= 1
  std::vector<int> offset;            // (B + 1) start of row b's tokens in flat arrays
  int total_response() const { return offset.empty() ? 0 : offset.back(); }
};

// Packs rows (prompt[i] followed by response[i]). Every prompt and response must be
// non-empty and prompt + response <= max_seq (weft::Error otherwise).
ResponseBatch response_batch_pack(std::span<const std::vector<std::int32_t>> prompts,
                                  std::span<const std::vector<std::int32_t>> responses,
                                  int max_seq);

// Runs the policy on `batch` (forward with logits) and writes logp (total_response)
// and, when not empty, entropy (total_response) of each response token's distribution.
void response_logprobs(model::GptModel& model, const ResponseBatch& batch, std::span<float> logp,
                       std::span<float> entropy = {});

// Sequence log-probabilities: Σ_j logp over each row's response. out (B).
void response_sequence_sums(std::span<const float> logp, const ResponseBatch& batch,
                            std::span<double> out);

// After response_logprobs on the same batch: accumulates into model.grads() the
// gradient of a loss whose derivative wrt each response token's logp is dlogp
// (total_response). dlogits is scratch (grown to B·T·Vp floats).
void response_logprob_backward(model::GptModel& model, const ResponseBatch& batch,
                               std::span<const float> dlogp, AlignedBuffer<float>& dlogits);

}  // namespace weft::train
