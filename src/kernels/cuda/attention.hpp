// Causal multi-head self-attention on the GPU from packed qkv (as cpu::attention).
// Not a flash kernel: q·kᵀ and att·v are cuBLAS strided-batched GEMMs (fp32 accumulate),
// the causal softmax is a fused warp-per-row kernel, and the probabilities att
// (B,NH,T,T) are materialised (saved for backward, or recomputed with recompute on).
// Scratch buffers are the caller's. One host thread per context.
#pragma once

#include <cstddef>

#include "kernels/cuda/context.hpp"

namespace weft::cuda {

// Elements of T scratch attention_forward/backward need: q, k, v and dout in
// head-major order, 4·B·T·C (the backward's datt of B·NH·T·T is separate).
std::size_t attention_scratch(int B, int Tn, int C);

// out (B,T,C) written, heads concatenated; att (B,NH,T,T) written (probabilities, 0 for
// s > t); qkv (B,T,3C) as [q | k | v] per token; scratch (attention_scratch) of T.
template <typename T>
void attention_forward(CudaContext& ctx, T* out, T* att, T* scratch, const T* qkv, int B, int Tn,
                       int C, int NH);

// dqkv (B,T,3C) written; datt (B,NH,T,T) scratch; scratch (attention_scratch);
// dout (B,T,C); att and qkv from forward.
template <typename T>
void attention_backward(CudaContext& ctx, T* dqkv, T* datt, T* scratch, const T* dout, const T* att,
                        const T* qkv, int B, int Tn, int C, int NH);

}  // namespace weft::cuda
