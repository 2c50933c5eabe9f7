// GptModel's extension points for stages with their own loss (see gpt_model.hpp):
// forward without the LM head, and backward from a caller's d(logits) or
// d(final hidden). Kept apart from gpt_model.cpp so the core forward/backward stays
// small. Same threading as GptModel: one thread drives it.
#include <cstring>

#include "core/error.hpp"
#include "model/gpt_model.hpp"

namespace weft::model {

void GptModel::forward_hidden(const std::int32_t* inp, int B, int T) {
  WEFT_CHECK(first_stage() && last_stage_, "forward_hidden() runs the whole model, not a stage");
  forward_body(inp, nullptr, B, T, /*with_logits=*/false);
}

void GptModel::backward_from(const float* dlogits, const float* dhidden) {
  WEFT_CHECK(!grads_.empty(), "backward_from on a model built without training buffers");
  WEFT_CHECK(first_stage() && last_stage_, "backward_from runs the whole model, not a stage");
  WEFT_CHECK(cur_->acts_saved, "backward_from needs a forward() or forward_hidden() first "
                          "(and one backward per forward)");
  WEFT_CHECK(dlogits != nullptr || dhidden != nullptr, "backward_from: no gradient given");
  WEFT_CHECK(dlogits == nullptr || cur_->logits_valid,
             "backward_from: dlogits after forward_hidden(), which computes no logits");
  float* d = nullptr;
  if (dlogits != nullptr) {
    // The logits buffer becomes dlogits, with the padded columns zeroed so they leave
    // the padded rows of wte untouched. Under tp this rank holds vocabulary columns
    // [v0, v0 + Vs) only (logits() is (B,T,Vs) there).
    const int V = config_.vocab, Vs = config_.padded_vocab / tp_.size, v0 = tp_.rank * Vs;
    const std::size_t N = static_cast<std::size_t>(cur_->B) * cur_->T;
    d = cur_->acts.logits;
    if (dlogits != d) std::memcpy(d, dlogits, N * Vs * sizeof(float));
    const int first_pad = V - v0 < 0 ? 0 : V - v0;  // local column of global column V
    if (first_pad < Vs)
      for (std::size_t i = 0; i < N; ++i)
        std::memset(d + i * Vs + first_pad, 0, static_cast<std::size_t>(Vs - first_pad) * sizeof(float));
  }
  backward_impl(d, dhidden, nullptr);
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
