// GptModel's extension points for stages with their own loss (see gpt_model.hpp):
// forward without the LM head, and backward from a caller's d(logits) or
// d(final hidden). Kept apart from gpt_model.cpp so the core forward/backward stays
// small. Same threading as GptModel: one thread drives it.
#include <cstring>

#include "core/error.hpp"
#include "model/gpt_model.hpp"

namespace weft::model {

void GptModel::forward_hidden(const std::int32_t* inp, int B, int T) {
  forward_body(inp, B, T, /*with_logits=*/false);
}

void GptModel::backward_from(const float* dlogits, const float* dhidden) {
  WEFT_CHECK(!grads_.empty(), "backward_from on a model built without training buffers");
  WEFT_CHECK(acts_saved_, "backward_from needs a forward() or forward_hidden() first "
                          "(and one backward per forward)");
  WEFT_CHECK(dlogits != nullptr || dhidden != nullptr, "backward_from: no gradient given");
  WEFT_CHECK(dlogits == nullptr || logits_valid_,
             "backward_from: dlogits after forward_hidden(), which computes no logits");
  float* d = nullptr;
  if (dlogits != nullptr) {
    // The logits buffer becomes dlogits, with the padded columns zeroed so they leave
    // the padded rows of wte untouched.
    const int V = config_.vocab, Vp = config_.padded_vocab;
    const std::size_t N = static_cast<std::size_t>(last_B_) * last_T_;
    d = acts_.logits;
    if (dlogits != d) std::memcpy(d, dlogits, N * Vp * sizeof(float));
    for (std::size_t i = 0; i < N; ++i)
      std::memset(d + i * Vp + V, 0, static_cast<std::size_t>(Vp - V) * sizeof(float));
  }
  backward_impl(d, dhidden);
}

void GptModel::set_doc_starts(const std::int32_t* doc_start, int B, int T) {
  check_shape(B, T);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) {
      const std::size_t i = static_cast<std::size_t>(b) * T + t;
      const std::int32_t s = doc_start[i];
      // Documents are contiguous: a token continues the previous one's or starts its own.
      const bool ok = t == 0 ? s == 0 : (s == doc_start[i - 1] || s == t);
      if (!ok)
        throw input_error(str("doc_start[", b, ",", t, "] = ", s, ": expected ",
                              t == 0 ? "0" : str(doc_start[i - 1], " (same document) or ", t,
                                                 " (a new one)")));
      doc_start_.data()[i] = s;
      pos_.data()[i] = t - s;
    }
  packed_B_ = B;
  packed_T_ = T;
}

}  // namespace weft::model
