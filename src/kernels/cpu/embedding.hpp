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

}  // namespace weft::cpu
