// Elementwise kernels. See elementwise.hpp.
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/device.hpp"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/elementwise.hpp"

namespace weft::cuda {
namespace {
using detail::from_f32;
using detail::to_f32;

constexpr unsigned kThreads = 256;
constexpr float kGeluScale = 0.7978845608028654f;  // sqrt(2/pi)

template <typename T>
__global__ void gelu_forward_kernel(T* out, const T* inp, std::size_t n) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const float x = to_f32(inp[i]);
  const float cube = 0.044715f * x * x * x;
  out[i] = from_f32<T>(0.5f * x * (1.0f + tanhf(kGeluScale * (x + cube))));
}

template <typename T>
__global__ void gelu_backward_kernel(T* dinp, const T* dout, const T* inp, std::size_t n) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const float x = to_f32(inp[i]);
  const float cube = 0.044715f * x * x * x;
  const float arg = kGeluScale * (x + cube);
  const float th = tanhf(arg);
  const float sech2 = 1.0f - th * th;
  const float local = 0.5f * (1.0f + th) + 0.5f * x * sech2 * kGeluScale * (1.0f + 3.0f * 0.044715f * x * x);
  dinp[i] = from_f32<T>(local * to_f32(dout[i]));
}

template <typename T>
__global__ void residual_kernel(T* out, const T* a, const T* b, std::size_t n) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (i < n) out[i] = from_f32<T>(to_f32(a[i]) + to_f32(b[i]));
}

template <typename T>
__global__ void from_f32_kernel(T* out, const float* in, std::size_t n) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (i < n) out[i] = from_f32<T>(in[i]);
}

template <typename T>
__global__ void to_f32_kernel(float* out, const T* in, std::size_t n) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (i < n) out[i] = to_f32(in[i]);
}

__global__ void scale_kernel(float* x, std::size_t n, float s) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (i < n) x[i] *= s;
}

constexpr int kBiasRows = 64;  // rows per partial sum

// grid (ceil(OC/256), chunks): partial[chunk, oc] = Σ rows of the chunk.
template <typename T>
__global__ void bias_partial_kernel(float* partial, const T* dout, int N, int OC) {
  const int oc = blockIdx.x * blockDim.x + threadIdx.x;
  if (oc >= OC) return;
  const int r0 = blockIdx.y * kBiasRows;
  const int r1 = min(N, r0 + kBiasRows);
  float s = 0.0f;
  for (int r = r0; r < r1; ++r) s += to_f32(dout[static_cast<std::size_t>(r) * OC + oc]);
  partial[static_cast<std::size_t>(blockIdx.y) * OC + oc] = s;
}

__global__ void bias_reduce_kernel(float* dbias, const float* partial, int chunks, int OC) {
  const int oc = blockIdx.x * blockDim.x + threadIdx.x;
  if (oc >= OC) return;
  float s = 0.0f;
  for (int c = 0; c < chunks; ++c) s += partial[static_cast<std::size_t>(c) * OC + oc];
  dbias[oc] += s;
}

}  // namespace

template <typename T>
void gelu_forward(T* out, const T* inp, std::size_t n, cudaStream_t stream) {
  if (n == 0) return;
  gelu_forward_kernel<<<detail::blocks_for(n, kThreads), kThreads, 0, stream>>>(out, inp, n);
  WEFT_CUDA_LAUNCH_CHECK();
}

template <typename T>
void gelu_backward(T* dinp, const T* dout, const T* inp, std::size_t n, cudaStream_t stream) {
  if (n == 0) return;
  gelu_backward_kernel<<<detail::blocks_for(n, kThreads), kThreads, 0, stream>>>(dinp, dout, inp, n);
  WEFT_CUDA_LAUNCH_CHECK();
}

template <typename T>
void residual_forward(T* out, const T* a, const T* b, std::size_t n, cudaStream_t stream) {
  if (n == 0) return;
  residual_kernel<<<detail::blocks_for(n, kThreads), kThreads, 0, stream>>>(out, a, b, n);
  WEFT_CUDA_LAUNCH_CHECK();
}

template <typename T>
void add_inplace(T* y, const T* x, std::size_t n, cudaStream_t stream) {
  residual_forward(y, y, x, n, stream);
}

template <typename T>
void convert_from_f32(T* out, const float* in, std::size_t n, cudaStream_t stream) {
  if (n == 0) return;
  from_f32_kernel<<<detail::blocks_for(n, kThreads), kThreads, 0, stream>>>(out, in, n);
  WEFT_CUDA_LAUNCH_CHECK();
}

template <typename T>
void convert_to_f32(float* out, const T* in, std::size_t n, cudaStream_t stream) {
  if (n == 0) return;
  to_f32_kernel<<<detail::blocks_for(n, kThreads), kThreads, 0, stream>>>(out, in, n);
  WEFT_CUDA_LAUNCH_CHECK();
}

void scale_inplace(float* x, std::size_t n, float s, cudaStream_t stream) {
  if (n == 0) return;
  scale_kernel<<<detail::blocks_for(n, kThreads), kThreads, 0, stream>>>(x, n, s);
  WEFT_CUDA_LAUNCH_CHECK();
}

std::size_t bias_backward_scratch(int N, int OC) {
  return static_cast<std::size_t>((N + kBiasRows - 1) / kBiasRows) * static_cast<std::size_t>(OC);
}

template <typename T>
void bias_backward(float* dbias, float* scratch, const T* dout, int N, int OC, cudaStream_t stream) {
  const int chunks = (N + kBiasRows - 1) / kBiasRows;
  const dim3 grid(detail::blocks_for(static_cast<std::size_t>(OC), kThreads), static_cast<unsigned>(chunks));
  bias_partial_kernel<<<grid, kThreads, 0, stream>>>(scratch, dout, N, OC);
  WEFT_CUDA_LAUNCH_CHECK();
  bias_reduce_kernel<<<detail::blocks_for(static_cast<std::size_t>(OC), kThreads), kThreads, 0, stream>>>(
      dbias, scratch, chunks, OC);
  WEFT_CUDA_LAUNCH_CHECK();
}

#define WEFT_INSTANTIATE(T)                                                                   \
  template void gelu_forward<T>(T*, const T*, std::size_t, cudaStream_t);                     \
  template void gelu_backward<T>(T*, const T*, const T*, std::size_t, cudaStream_t);          \
  template void residual_forward<T>(T*, const T*, const T*, std::size_t, cudaStream_t);       \
  template void add_inplace<T>(T*, const T*, std::size_t, cudaStream_t);                      \
  template void convert_from_f32<T>(T*, const float*, std::size_t, cudaStream_t);             \
  template void convert_to_f32<T>(float*, const T*, std::size_t, cudaStream_t);               \
  template void bias_backward<T>(float*, float*, const T*, int, int, cudaStream_t);
WEFT_INSTANTIATE(float)
WEFT_INSTANTIATE(bf16)
#undef WEFT_INSTANTIATE

}  // namespace weft::cuda
