// Linear layers on the GPU through cuBLASLt, PyTorch nn.Linear layout (as cpu::matmul):
// out = inp · weightᵀ + bias with the bias fused into the GEMM epilogue. Activations and
// weights in T (float or bf16), fp32 accumulation; weight and bias gradients in fp32.
// fp32 mode uses true fp32 GEMMs (no TF32). Host functions; one thread per context.
#pragma once

#include "kernels/cuda/context.hpp"

namespace weft::cuda {

// out (N,OC) written; inp (N,C); weight (OC,C); bias (OC) or nullptr.
template <typename T>
void matmul_forward(CudaContext& ctx, T* out, const T* inp, const T* weight, const T* bias, int N,
                    int C, int OC);

// dinp (N,C) written (skipped when nullptr) = dout · weight; dweight (OC,C) fp32 +=
// doutᵀ · inp; dbias (OC) fp32 += column sums of dout (skipped when nullptr; needs
// `scratch` of bias_backward_scratch(N, OC) floats).
template <typename T>
void matmul_backward(CudaContext& ctx, T* dinp, float* dweight, float* dbias, float* scratch,
                     const T* dout, const T* inp, const T* weight, int N, int C, int OC);

// Column-major GEMM D (m,n) = alpha·op(A)·op(B) + beta·D through cuBLASLt, with an
// optional bias (m) epilogue. A and B in TA; D in TD (float or TA). The building block
// of the two functions above.
template <typename TA, typename TD>
void lt_gemm(CudaContext& ctx, TD* d, const TA* a, const TA* b, bool trans_a, bool trans_b, int m,
             int n, int k, int lda, int ldb, int ldd, float alpha, float beta, const TD* bias);

}  // namespace weft::cuda
