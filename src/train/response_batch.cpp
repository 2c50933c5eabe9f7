// Packing (prompt, response) rows and the policy's log-probabilities on them. See
// response_batch.hpp.
#include "train/response_batch.hpp"

#include <algorithm>
#include <cstring>

#include "core/error.hpp"
#include "train/rlhf_math.hpp"

namespace weft::train {

ResponseBatch response_batch_pack(std::span<const std::vector<std::int32_t>> prompts,
                                  std::span<const std::vector<std::int32_t>> responses,
                                  int max_seq) {
  WEFT_CHECK(prompts.size() == responses.size());
  ResponseBatch b;
  b.B = static_cast<int>(prompts.size());
  b.offset.push_back(0);
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    const int p = static_cast<int>(prompts[i].size()), r = static_cast<int>(responses[i].size());
    if (p < 1 || r < 1 || p + r > max_seq)
      throw input_error(str("sequence ", i, ": prompt of ", p, " and response of ", r,
                            " tokens; need both >= 1 and together <= ", max_seq, " (max_seq)"));
    b.prompt_len.push_back(p);
    b.response_len.push_back(r);
    b.offset.push_back(b.offset.back() + r);
    b.T = std::max(b.T, p + r);
  }
  b.tokens.assign(static_cast<std::size_t>(b.B) * b.T, 0);
  for (int i = 0; i < b.B; ++i) {
    std::int32_t* row = b.tokens.data() + static_cast<std::size_t>(i) * b.T;
    std::copy(prompts[i].begin(), prompts[i].end(), row);
    std::copy(responses[i].begin(), responses[i].end(), row + prompts[i].size());
  }
  return b;
}

void response_logprobs(model::GptModel& model, const ResponseBatch& batch, std::span<float> logp,
                       std::span<float> entropy) {
  const int n = batch.total_response();
  WEFT_CHECK(static_cast<int>(logp.size()) == n);
  WEFT_CHECK(entropy.empty() || static_cast<int>(entropy.size()) == n);
  model.forward(batch.tokens.data(), nullptr, nullptr, batch.B, batch.T);
  const int V = model.config().vocab, Vp = model.config().padded_vocab;
  const float* logits = model.logits();
#pragma omp parallel for schedule(static)
  for (int b = 0; b < batch.B; ++b) {
    for (int j = 0; j < batch.response_len[b]; ++j) {
      const int pos = batch.prompt_len[b] + j;  // the token's position
      const std::size_t row = static_cast<std::size_t>(b) * batch.T + (pos - 1);
      const std::int32_t tok = batch.tokens[static_cast<std::size_t>(b) * batch.T + pos];
      const TokenStats s =
          token_stats(std::span<const float>(logits + row * Vp, static_cast<std::size_t>(V)), tok);
      const std::size_t k = static_cast<std::size_t>(batch.offset[b] + j);
      logp[k] = static_cast<float>(s.logp);
      if (!entropy.empty()) entropy[k] = static_cast<float>(s.entropy);
    }
  }
}

void response_sequence_sums(std::span<const float> logp, const ResponseBatch& batch,
                            std::span<double> out) {
  WEFT_CHECK(static_cast<int>(out.size()) == batch.B);
  for (int b = 0; b < batch.B; ++b) {
    double s = 0.0;
    for (int k = batch.offset[b]; k < batch.offset[b + 1]; ++k) s += logp[static_cast<std::size_t>(k)];
    out[static_cast<std::size_t>(b)] = s;
  }
}

void response_logprob_backward(model::GptModel& model, const ResponseBatch& batch,
                               std::span<const float> dlogp, AlignedBuffer<float>& dlogits) {
  WEFT_CHECK(static_cast<int>(dlogp.size()) == batch.total_response());
  const int V = model.config().vocab, Vp = model.config().padded_vocab;
  const std::size_t need = static_cast<std::size_t>(batch.B) * batch.T * Vp;
  if (dlogits.size() < need) dlogits.allocate(need);
  std::memset(dlogits.data(), 0, need * sizeof(float));
  const float* logits = model.logits();
#pragma omp parallel for schedule(static)
  for (int b = 0; b < batch.B; ++b) {
    for (int j = 0; j < batch.response_len[b]; ++j) {
      const int pos = batch.prompt_len[b] + j;
      const std::size_t row = static_cast<std::size_t>(b) * batch.T + (pos - 1);
      const std::int32_t tok = batch.tokens[static_cast<std::size_t>(b) * batch.T + pos];
      const float g = dlogp[static_cast<std::size_t>(batch.offset[b] + j)];
      if (g == 0.0f) continue;
      logprob_grad_add(std::span<float>(dlogits.data() + row * Vp, static_cast<std::size_t>(V)),
                       std::span<const float>(logits + row * Vp, static_cast<std::size_t>(V)), tok, g);
    }
  }
  model.backward_from_logits(dlogits.data());
}

}  // namespace weft::train
