// Elementwise CUDA kernels: GELU (tanh form, as cpu::gelu), residual add, fp32 <-> bf16
// conversion, scaling, and the bias gradient (column sums) of a matmul. T is float or
// bf16 (the activation type); math in fp32. Launched on `stream`; any host thread that
// owns the stream. Deterministic (no atomics).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

namespace weft::cuda {

// out (n) = gelu(inp (n)); out may alias inp.
template <typename T>
void gelu_forward(T* out, const T* inp, std::size_t n, cudaStream_t stream);
// dinp (n) = gelu'(inp) · dout; dinp may alias dout.
template <typename T>
void gelu_backward(T* dinp, const T* dout, const T* inp, std::size_t n, cudaStream_t stream);

// out (n) = a + b; out may alias a or b.
template <typename T>
void residual_forward(T* out, const T* a, const T* b, std::size_t n, cudaStream_t stream);
// y (n) += x (n).
template <typename T>
void add_inplace(T* y, const T* x, std::size_t n, cudaStream_t stream);

// out (n) = round-to-nearest-even of in (n) (T = bf16) or a copy (T = float).
template <typename T>
void convert_from_f32(T* out, const float* in, std::size_t n, cudaStream_t stream);
// out (n) = fp32 of in (n).
template <typename T>
void convert_to_f32(float* out, const T* in, std::size_t n, cudaStream_t stream);

// x (n) *= s.
void scale_inplace(float* x, std::size_t n, float s, cudaStream_t stream);

// Floats of scratch bias_backward needs for (N, OC).
std::size_t bias_backward_scratch(int N, int OC);
// dbias (OC) += Σ_n dout[n, :]; dout (N, OC). Two passes over fixed row chunks
// (partial sums in scratch, then summed in order): deterministic.
template <typename T>
void bias_backward(float* dbias, float* scratch, const T* dout, int N, int OC, cudaStream_t stream);

}  // namespace weft::cuda
