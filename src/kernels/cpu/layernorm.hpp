// LayerNorm over the last dimension (eps 1e-5, biased variance, as torch.nn.LayerNorm).
// Pure functions over caller-owned buffers; call from one thread (OpenMP inside).
// Deterministic for any thread count.
#pragma once

namespace weft::cpu {

inline constexpr float kLayerNormEps = 1e-5f;

// out (N,C) written; mean (N), rstd (N) written (saved for backward);
// inp (N,C); weight (C); bias (C). N = B*T rows.
void layernorm_forward(float* out, float* mean, float* rstd, const float* inp,
                       const float* weight, const float* bias, int N, int C);

// dinp (N,C) WRITTEN (=), must not alias dout or inp; dweight (C) +=; dbias (C) +=;
// dout (N,C); inp (N,C); weight (C); mean, rstd (N) from forward.
void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                        const float* inp, const float* weight, const float* mean,
                        const float* rstd, int N, int C);

// Same as layernorm_backward but ADDS (+=) into dinp: the fused residual path, where
// dinp is the residual stream's gradient that already holds the skip connection's part.
void layernorm_backward_add(float* dinp, float* dweight, float* dbias, const float* dout,
                            const float* inp, const float* weight, const float* mean,
                            const float* rstd, int N, int C);

}  // namespace weft::cpu
