// GPT-2 forward over packed rows with KV caches (see kv_decoder.hpp): the same kernels
// as model/gpt_model.cpp for everything but attention, which reads the cache.
#include "infer/kv_decoder.hpp"

#include <cstring>

#include "core/error.hpp"
#include "kernels/cpu/attention_decode.hpp"
#include "kernels/cpu/embedding.hpp"
#include "kernels/cpu/gelu.hpp"
#include "kernels/cpu/layernorm.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/matmul_rows.hpp"
#include "kernels/cpu/residual.hpp"
#include "model/param_layout.hpp"

namespace weft::infer {

// fp32: decode steps (few rows) stream the weights once; prefills use sgemm.
// bf16: oneDNN on the bf16 weight copy (half the bytes to stream), fp32 accumulation.
void KvDecoder::linear(float* out, const float* inp, const float* w, const float* b, int N, int C,
                       int OC) {
  if (bf16_matmul_) {
    bf16_matmul_->forward(out, inp, params_bf16_.data() + (w - params_), b, N, C, OC);
  } else if (N <= cpu::kMatmulRowsMax) {
    cpu::matmul_rows_forward(out, inp, w, b, N, C, OC);
  } else {
    cpu::matmul_forward(out, inp, w, b, N, C, OC);
  }
}

KvDecoder::~KvDecoder() = default;

cpu::Precision KvDecoder::set_precision(cpu::Precision precision) {
  if (cpu::precision_in_effect(precision, "generating") == cpu::Precision::kBf16) {
    if (!bf16_matmul_) {
      bf16_matmul_ = std::make_unique<cpu::Bf16Matmul>();
      bf16_matmul_->set_row_buckets(true);  // N changes every step: few primitives
    }
    if (params_bf16_.empty()) params_bf16_.allocate(config_.num_params(), /*zero=*/false);
    bf16_stale_ = true;
  } else {
    bf16_matmul_.reset();
  }
  return bf16_matmul_ ? cpu::Precision::kBf16 : cpu::Precision::kFp32;
}

KvDecoder::KvDecoder(const model::GptConfig& config, const float* params, int max_slots,
                     int max_seq, int max_rows)
    : config_(config),
      params_(params),
      max_slots_(max_slots),
      max_seq_(max_seq),
      max_rows_(max_rows) {
  config_.validate();
  if (max_slots < 1 || max_rows < 1 || max_seq < 1 || max_seq > config_.max_seq)
    throw config_error(
        str("KV decoder: need slots >= 1, rows >= 1 and 1 <= max_seq <= ", config_.max_seq,
            " (got slots=", max_slots, " max_seq=", max_seq, " rows=", max_rows, ")"));
  const std::size_t L = config_.n_layer, C = config_.n_embd, R = max_rows;
  const std::size_t cache = L * max_slots * max_seq * C;
  k_cache_.allocate(cache, false);
  v_cache_.allocate(cache, false);
  x_.allocate(R * C);
  ln_.allocate(R * C);
  mean_.allocate(R);
  rstd_.allocate(R);
  qkv_.allocate(R * 3 * C);
  atty_.allocate(R * C);
  proj_.allocate(R * C);
  fch_.allocate(R * 4 * C);
  logits_.allocate(static_cast<std::size_t>(max_slots) *
                   config_.padded_vocab);  // grows for all_logits
  row_slot_.allocate(R);
  row_pos_.allocate(R);
  row_tok_.allocate(R);
  out_rows_.allocate(R);
}

const float* KvDecoder::k_cache(int l) const {
  return k_cache_.data() + static_cast<std::size_t>(l) * max_slots_ * max_seq_ * config_.n_embd;
}
const float* KvDecoder::v_cache(int l) const {
  return v_cache_.data() + static_cast<std::size_t>(l) * max_slots_ * max_seq_ * config_.n_embd;
}

std::span<const float> KvDecoder::forward(std::span<const DecodeChunk> chunks, bool all_logits) {
  const int C = config_.n_embd, NH = config_.n_head, L = config_.n_layer;
  const int V = config_.vocab, Vp = config_.padded_vocab;
  // Pack the rows: token, slot and position of each.
  int N = 0, n_out = 0;
  for (const DecodeChunk& ch : chunks) {
    WEFT_CHECK(ch.slot >= 0 && ch.slot < max_slots_, "slot ", ch.slot);
    WEFT_CHECK(ch.count >= 1 && ch.start >= 0 && ch.start + ch.count <= max_seq_, "chunk ",
               ch.start, "+", ch.count, " vs max_seq ", max_seq_);
    WEFT_CHECK(N + ch.count <= max_rows_, "rows ", N + ch.count, " > ", max_rows_);
    for (int i = 0; i < ch.count; ++i) {
      row_tok_.data()[N] = ch.tokens[i];
      row_slot_.data()[N] = ch.slot;
      row_pos_.data()[N] = ch.start + i;
      if (all_logits || i == ch.count - 1) out_rows_.data()[n_out++] = N;
      ++N;
    }
  }
  if (N == 0) return {};
  if (bf16_matmul_ && bf16_stale_) {  // weights changed (set_params): round them once
    cpu::f32_to_bf16_array(params_bf16_.data(), params_, config_.num_params());
    bf16_stale_ = false;
  }
  const auto p = model::ParamViews<const float>::make(model::ParamLayout(config_), params_);
  float* x = x_.data();
  // Embedding: one row at a time (rows have their own positions).
  for (int n = 0; n < N; ++n)
    cpu::embedding_forward(x + static_cast<std::size_t>(n) * C, row_tok_.data() + n, p.wte,
                           p.wpe + static_cast<std::size_t>(row_pos_.data()[n]) * C, 1, 1, C, V);
  const std::size_t NC = static_cast<std::size_t>(N) * C;
  const std::size_t layer_cache = static_cast<std::size_t>(max_slots_) * max_seq_ * C;
  for (int l = 0; l < L; ++l) {
    const std::size_t lC = static_cast<std::size_t>(l) * C;
    float* kc = k_cache_.data() + l * layer_cache;
    float* vc = v_cache_.data() + l * layer_cache;
    cpu::layernorm_forward(ln_.data(), mean_.data(), rstd_.data(), x, p.ln1w + lC, p.ln1b + lC, N,
                           C);
    linear(qkv_.data(), ln_.data(), p.qkvw + lC * 3 * C, p.qkvb + 3 * lC, N, C, 3 * C);
    cpu::kv_cache_write(kc, vc, qkv_.data(), row_slot_.data(), row_pos_.data(), N, C, NH, max_seq_);
    cpu::attention_decode_forward(atty_.data(), qkv_.data(), kc, vc, row_slot_.data(),
                                  row_pos_.data(), N, C, NH, max_seq_);
    linear(proj_.data(), atty_.data(), p.attprojw + lC * C, p.attprojb + lC, N, C, C);
    cpu::add_inplace(x, proj_.data(), NC);
    cpu::layernorm_forward(ln_.data(), mean_.data(), rstd_.data(), x, p.ln2w + lC, p.ln2b + lC, N,
                           C);
    linear(fch_.data(), ln_.data(), p.fcw + lC * 4 * C, p.fcb + 4 * lC, N, C, 4 * C);
    cpu::gelu_forward(fch_.data(), fch_.data(), 4 * NC);
    linear(proj_.data(), fch_.data(), p.fcprojw + lC * 4 * C, p.fcprojb + lC, N, 4 * C, C);
    cpu::add_inplace(x, proj_.data(), NC);
  }
  // Final LayerNorm and the tied LM head, only for the rows whose logits are wanted.
  for (int i = 0; i < n_out; ++i) {
    const int n = out_rows_.data()[i];
    if (n != i)
      std::memmove(x + static_cast<std::size_t>(i) * C, x + static_cast<std::size_t>(n) * C,
                   C * sizeof(float));
  }
  if (logits_.size() < static_cast<std::size_t>(n_out) * Vp)
    logits_.allocate(static_cast<std::size_t>(n_out) * Vp, false);
  cpu::layernorm_forward(ln_.data(), mean_.data(), rstd_.data(), x, p.lnfw, p.lnfb, n_out, C);
  linear(logits_.data(), ln_.data(), p.wte, nullptr, n_out, C, Vp);
  return {logits_.data(), static_cast<std::size_t>(n_out) * Vp};
}

}  // namespace weft::infer
