// Linear layer via OpenBLAS sgemm, PyTorch nn.Linear layout: out = inp · weightᵀ + bias.
// Pure functions over caller-owned buffers; call from one thread (BLAS and OpenMP inside,
// same pool). Deterministic for a given thread count.
#pragma once

namespace weft::cpu {

// out (N,OC) written; inp (N,C); weight (OC,C); bias (OC) or nullptr. N = B*T rows.
void matmul_forward(float* out, const float* inp, const float* weight, const float* bias,
                    int N, int C, int OC);

// dinp (N,C) WRITTEN (=) = dout · weight, skipped when dinp is nullptr;
// dweight (OC,C) += doutᵀ · inp; dbias (OC) += Σ_n dout[n,:], skipped when nullptr;
// dout (N,OC); inp (N,C); weight (OC,C).
void matmul_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                     const float* inp, const float* weight, int N, int C, int OC);

}  // namespace weft::cpu
