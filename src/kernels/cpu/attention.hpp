// Causal multi-head self-attention from packed qkv, fp32 softmax, sgemm per (batch, head)
// on row blocks of 64 queries (only the causal lower part is computed).
// Saves the softmax probabilities att (B,NH,T,T) for an exact backward: 4·B·NH·T² bytes
// per layer (d12 B=4 T=64: 0.8 MB; d6 B=8 T=256: 12.6 MB). Call from one thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace weft::cpu {

// qkv (B,T,3C): per token [q (C) | k (C) | v (C)], head h owning columns h*hs..h*hs+hs-1
// of each part, hs = C/NH (as llm.c and GPT-2's c_attn).
// out (B,T,C) written, heads concatenated; att (B,NH,T,T) written: att[b,h,t,s] is the
// probability of query t on key s (0 for s > t). Scale 1/sqrt(hs).
// doc_start (B,T) or nullptr: packed rows of several documents (SFT packing). Query t
// of row b attends only keys doc_start[b,t] <= s <= t (its own document); att is 0
// outside that range, which is all backward needs (it takes no mask). nullptr = 0.
void attention_forward(float* out, float* att, const float* qkv, int B, int T, int C, int NH,
                       const std::int32_t* doc_start = nullptr);

// Floats of scratch attention_backward needs with the current OpenMP thread count
// (one min(T,64)×T tile per thread). Compute it after the thread count is set.
std::size_t attention_backward_scratch_size(int T);

// dqkv (B,T,3C) WRITTEN (=); dout (B,T,C); att (B,NH,T,T) and qkv (B,T,3C) from forward
// (with or without doc_start: masked probabilities are 0, so their gradient is too);
// scratch of scratch_floats floats (>= attention_backward_scratch_size(T), checked).
void attention_backward(float* dqkv, float* scratch, std::size_t scratch_floats,
                        const float* dout, const float* att, const float* qkv,
                        int B, int T, int C, int NH);

}  // namespace weft::cpu
