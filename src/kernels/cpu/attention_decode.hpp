// Attention for generation: new query rows against a KV cache. Each row belongs to a
// cache slot (one sequence) and sits at a position; kv_cache_write stores its key and
// value there, then attention_decode_forward lets it attend to positions 0..pos of
// its slot (causal), so a prefill (many rows of one slot) and decode steps of many
// slots share one call. fp32 softmax, scale 1/sqrt(hs). Call from one thread (OpenMP
// inside); caller-owned buffers.
#pragma once

#include <cstdint>

namespace weft::cpu {

// k_cache, v_cache (S, NH, maxT, hs) of one layer: [slot[n], h, pos[n], :] = the row's
// k / v from qkv (N, 3C) (per token [q | k | v], head h at columns h*hs..).
void kv_cache_write(float* k_cache, float* v_cache, const float* qkv, const int32_t* slot,
                    const int32_t* pos, int N, int C, int NH, int maxT);

// out (N, C) written, heads concatenated: row n, head h =
//   Σ_{s<=pos[n]} softmax_s(q·k_s / sqrt(hs)) · v_s  over cache slot slot[n].
// qkv (N, 3C) (only q read); caches as above, holding positions 0..pos[n] of each slot.
void attention_decode_forward(float* out, const float* qkv, const float* k_cache,
                              const float* v_cache, const int32_t* slot, const int32_t* pos, int N,
                              int C, int NH, int maxT);

}  // namespace weft::cpu
