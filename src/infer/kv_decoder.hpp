// GPT-2 forward with per-layer KV caches, for generation: rows from many sequences
// (a whole prompt for a prefill, one token for a decode step) are packed into one
// pass, so the matmuls read the weights once for all of them. Each row knows its
// cache slot and position; its K/V are written into the cache, then it attends to
// positions 0..pos of its slot (kernels/cpu/attention_decode.hpp).
// Owns the KV cache and the scratch; params are borrowed. One thread drives it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/aligned_buffer.hpp"
#include "kernels/cpu/matmul_bf16.hpp"
#include "model/gpt_config.hpp"

namespace weft::infer {

// One sequence's share of a forward pass: `count` tokens placed at positions
// start..start+count-1 of cache slot `slot` (positions before start are cached).
struct DecodeChunk {
  int slot = 0;
  int start = 0;
  const std::int32_t* tokens = nullptr;  // (count)
  int count = 0;
};

class KvDecoder {
 public:
  // params: config.num_params() floats in ParamLayout order, borrowed (must outlive
  // the decoder). Cache: max_slots sequences of max_seq tokens. max_rows: the most
  // rows (tokens) one forward() may pack.
  KvDecoder(const model::GptConfig& config, const float* params, int max_slots, int max_seq,
            int max_rows);
  ~KvDecoder();

  const model::GptConfig& config() const { return config_; }
  int max_slots() const { return max_slots_; }
  int max_seq() const { return max_seq_; }
  int max_rows() const { return max_rows_; }
  // New weights (or the same buffer rewritten): call before the next forward().
  void set_params(const float* params) {
    params_ = params;
    bf16_stale_ = true;
  }
  // bf16: matmuls on a bf16 copy of the weights, rounded at the first forward after
  // set_params; fp32 accumulation, everything else fp32 (docs/precision.md). On a CPU
  // without native bf16 one notice, then fp32. Returns the precision in effect.
  cpu::Precision set_precision(cpu::Precision precision);
  cpu::Precision precision() const {
    return bf16_matmul_ ? cpu::Precision::kBf16 : cpu::Precision::kFp32;
  }

  // Runs the chunks (total tokens <= max_rows, slots distinct, start + count <=
  // max_seq) through the model, writing their K/V into the cache. Logits (Vp) are
  // computed for the LAST token of each chunk, or for every token when all_logits.
  // Returns (rows, Vp): one row per chunk in order, or one per token when all_logits;
  // valid until the next forward().
  std::span<const float> forward(std::span<const DecodeChunk> chunks, bool all_logits = false);

  // Cache of layer l (max_slots, NH, max_seq, hs), for tests.
  const float* k_cache(int l) const;
  const float* v_cache(int l) const;

 private:
  void linear(float* out, const float* inp, const float* w, const float* b, int N, int C, int OC);

  model::GptConfig config_;
  const float* params_;
  int max_slots_, max_seq_, max_rows_;
  AlignedBuffer<float> k_cache_;  // (L, max_slots, NH, max_seq, hs)
  AlignedBuffer<float> v_cache_;  // (L, max_slots, NH, max_seq, hs)
  // Scratch, (max_rows, ·):
  AlignedBuffer<float> x_;       // (R, C)   residual stream
  AlignedBuffer<float> ln_;      // (R, C)   LayerNorm output
  AlignedBuffer<float> mean_;    // (R)
  AlignedBuffer<float> rstd_;    // (R)
  AlignedBuffer<float> qkv_;     // (R, 3C)
  AlignedBuffer<float> atty_;    // (R, C)
  AlignedBuffer<float> proj_;    // (R, C)
  AlignedBuffer<float> fch_;     // (R, 4C)
  AlignedBuffer<float> logits_;  // (rows with logits, Vp), grown on demand
  AlignedBuffer<std::int32_t> row_slot_, row_pos_, row_tok_;  // (R)
  AlignedBuffer<std::int32_t> out_rows_;                      // (R) rows needing logits
  // bf16 mode only.
  std::unique_ptr<cpu::Bf16Matmul> bf16_matmul_;
  AlignedBuffer<cpu::bf16> params_bf16_;  // (num_params) bf16 copy of params_
  bool bf16_stale_ = true;
};

}  // namespace weft::infer
