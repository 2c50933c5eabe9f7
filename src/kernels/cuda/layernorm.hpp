// LayerNorm on the GPU (eps 1e-5, biased variance, as cpu::layernorm). One warp per row;
// statistics in fp32. The weight/bias gradients are summed over fixed row chunks into
// scratch, then in order: deterministic. One host thread per stream.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

namespace weft::cuda {

// out (N,C) written; mean, rstd (N) fp32 written; inp (N,C); weight, bias (C).
template <typename T>
void layernorm_forward(T* out, float* mean, float* rstd, const T* inp, const T* weight,
                       const T* bias, int N, int C, cudaStream_t stream);

// Floats of scratch layernorm_backward needs for (N, C).
std::size_t layernorm_backward_scratch(int N, int C);

// dinp (N,C) written (accumulate=false) or += (accumulate=true, the residual stream);
// dweight, dbias (C) fp32 +=; dout, inp (N,C); weight (C); mean, rstd (N) from forward.
// dinp must not alias dout or inp.
template <typename T>
void layernorm_backward(T* dinp, float* dweight, float* dbias, float* scratch, const T* dout,
                        const T* inp, const T* weight, const float* mean, const float* rstd,
                        int N, int C, bool accumulate, cudaStream_t stream);

}  // namespace weft::cuda
