// The activation arena: every buffer forward saves for backward, plus backward's
// per-layer scratch, carved out of ONE aligned allocation sized from (B, T) once,
// so a training step never allocates. Owned by GptModel; used by the thread that
// runs forward/backward. Layer l of a stacked buffer starts at l·(capacity stride).
#pragma once

#include <cstddef>

#include "core/aligned_buffer.hpp"
#include "model/gpt_config.hpp"

namespace weft::model {

struct ActivationArena {
  // Forward, saved for backward (shapes at capacity B, T):
  float* encoded;    // (B, T, C)      token + position embedding (residual stream in)
  float* ln1;        // (L, B, T, C)   first LayerNorm output
  float* ln1_mean;   // (L, B, T)
  float* ln1_rstd;   // (L, B, T)
  // Under tensor parallelism (tp > 1) the buffers marked [tp] hold this rank's
  // shard: C/tp channels (NH/tp heads) instead of C, Vp/tp logits instead of Vp.
  float* qkv;        // (L, B, T, 3C)  packed q|k|v [tp]
  float* atty;       // (L, B, T, C)   attention output, heads concatenated [tp]
  float* att;        // (L, B, NH, T, T) softmax probabilities [tp]
  float* residual2;  // (L, B, T, C)   residual after attention (attproj written here, then += input)
  float* ln2;        // (L, B, T, C)
  float* ln2_mean;   // (L, B, T)
  float* ln2_rstd;   // (L, B, T)
  float* fch;        // (L, B, T, 4C)  MLP hidden before GELU [tp]
  float* fch_gelu;   // (L, B, T, 4C)  after GELU [tp]
  float* residual3;  // (L, B, T, C)   residual after the MLP (fcproj written here, then += residual2)
  float* lnf;        // (B, T, C)      final LayerNorm output
  float* lnf_mean;   // (B, T)
  float* lnf_rstd;   // (B, T)
  float* logits;     // (B, T, Vp)     [tp] logits; the fused classifier overwrites them with dlogits
  float* losses;     // (B, T)         per-token loss
  // Backward scratch (one layer at a time, not stacked):
  float* dresidual;  // (B, T, C)      gradient of the residual stream
  float* dbuf;       // (B, T, C)      gradient of a LayerNorm output / attention output
  float* dqkv;       // (B, T, 3C) [tp]
  float* dfch;       // (B, T, 4C) [tp]     gradient of the MLP hidden (before and after GELU, in place)
  float* att_scratch;  // (att_scratch_floats) attention_backward's tiles
  std::size_t att_scratch_floats = 0;

  int B = 0, T = 0;  // capacity
  // Per-layer strides (floats) of the stacked buffers.
  std::size_t stride_btc = 0, stride_bt = 0, stride_att = 0;
  std::size_t stride_btc_tp = 0;  // B·T·C/tp: per-layer stride unit of the [tp] buffers
  int tp = 1;

  AlignedBuffer<float> memory;

  // Sizes every buffer for a batch of up to B×T tokens; with_backward=false leaves
  // out backward's scratch (inference, evaluation); with_head=false leaves out
  // lnf/logits/losses (pipeline stages before the last). Uses the current thread count.
  // tp: the tensor-parallel group size (shards the [tp] buffers).
  void allocate(const GptConfig& config, int B, int T, bool with_backward, int tp = 1,
                bool with_head = true);
  std::size_t floats() const { return memory.size(); }
  // Floats the arena needs for (config, B, T) without allocating it.
  static std::size_t floats_needed(const GptConfig& config, int B, int T, bool with_backward,
                                   int tp = 1, bool with_head = true);
};

}  // namespace weft::model
