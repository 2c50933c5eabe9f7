// Token + position embedding (GPT-2 "encoder"): out[b,t,:] = wte[inp[b,t],:] + wpe[t,:].
// Pure functions over caller-owned buffers; call from one thread (they use OpenMP inside).
// Backward ADDS into dwte/dwpe (parameter gradients, STYLE.md §2).
#pragma once

#include <cstdint>

namespace weft::cpu {

// out (B,T,C) written; inp (B,T) token ids; wte (Vp,C); wpe (maxT,C) with T <= maxT.
// pos (B,T) position ids in [0, T) or nullptr (= t): packed rows restart positions at
// each document. Throws weft::Error (kInput) naming the position if a token is outside [0, V).
void embedding_forward(float* out, const int32_t* inp, const float* wte, const float* wpe,
                       int B, int T, int C, int V, const int32_t* pos = nullptr);

// dwte (Vp,C) +=, dwpe (maxT,C) +=; dout (B,T,C); inp (B,T) (already validated by forward);
// pos as in forward. Deterministic for any thread count (each thread owns a slice of channels).
void embedding_backward(float* dwte, float* dwpe, const float* dout, const int32_t* inp,
                        int B, int T, int C, const int32_t* pos = nullptr);

// Vocab-parallel forms: wte/dwte hold only rows [v0, v0 + Vs) of the vocabulary.
// Forward writes wte[tok] (0 when another shard owns tok) + wpe[t] (only when
// add_wpe, i.e. on one rank of the group), so the sum over shards is the embedding.
// Backward adds into the owned rows of dwte and into all of dwpe. With v0 = 0,
// Vs >= V and add_wpe the arithmetic is exactly embedding_forward/backward's.
// pos: position ids as in embedding_forward (nullptr = t).
void embedding_forward_shard(float* out, const int32_t* inp, const float* wte, const float* wpe,
                             int B, int T, int C, int V, int v0, int Vs, bool add_wpe,
                             const int32_t* pos = nullptr);
void embedding_backward_shard(float* dwte, float* dwpe, const float* dout, const int32_t* inp,
                              int B, int T, int C, int v0, int Vs, const int32_t* pos = nullptr);

}  // namespace weft::cpu
