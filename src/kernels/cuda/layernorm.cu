// LayerNorm kernels. See layernorm.hpp.
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/device.hpp"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/layernorm.hpp"

namespace weft::cuda {
namespace {
using detail::from_f32;
using detail::to_f32;
using detail::warp_sum;

constexpr int kWarpsPerBlock = 8;
constexpr int kRowsPerChunk = 64;  // rows per partial dweight/dbias sum

template <typename T>
__global__ void layernorm_forward_kernel(T* out, float* mean, float* rstd, const T* inp,
                                         const T* weight, const T* bias, int N, int C) {
  const int row = blockIdx.x * kWarpsPerBlock + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= N) return;
  const T* x = inp + static_cast<std::size_t>(row) * C;
  float s = 0.0f;
  for (int c = lane; c < C; c += 32) s += to_f32(x[c]);
  const float m = warp_sum(s) / C;
  float v = 0.0f;
  for (int c = lane; c < C; c += 32) {
    const float d = to_f32(x[c]) - m;
    v += d * d;
  }
  const float r = rsqrtf(warp_sum(v) / C + 1e-5f);
  T* o = out + static_cast<std::size_t>(row) * C;
  for (int c = lane; c < C; c += 32)
    o[c] = from_f32<T>((to_f32(x[c]) - m) * r * to_f32(weight[c]) + to_f32(bias[c]));
  if (lane == 0) {
    mean[row] = m;
    rstd[row] = r;
  }
}

// dinp only: one warp per row.
template <typename T>
__global__ void layernorm_dinp_kernel(T* dinp, const T* dout, const T* inp, const T* weight,
                                      const float* mean, const float* rstd, int N, int C,
                                      bool accumulate) {
  const int row = blockIdx.x * kWarpsPerBlock + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= N) return;
  const std::size_t off = static_cast<std::size_t>(row) * C;
  const float m = mean[row], r = rstd[row];
  float dnorm_mean = 0.0f, dnorm_norm_mean = 0.0f;
  for (int c = lane; c < C; c += 32) {
    const float norm = (to_f32(inp[off + c]) - m) * r;
    const float dnorm = to_f32(weight[c]) * to_f32(dout[off + c]);
    dnorm_mean += dnorm;
    dnorm_norm_mean += dnorm * norm;
  }
  dnorm_mean = warp_sum(dnorm_mean) / C;
  dnorm_norm_mean = warp_sum(dnorm_norm_mean) / C;
  for (int c = lane; c < C; c += 32) {
    const float norm = (to_f32(inp[off + c]) - m) * r;
    const float dnorm = to_f32(weight[c]) * to_f32(dout[off + c]);
    float d = (dnorm - dnorm_mean - norm * dnorm_norm_mean) * r;
    if (accumulate) d += to_f32(dinp[off + c]);
    dinp[off + c] = from_f32<T>(d);
  }
}

// grid (ceil(C/256), chunks): partial[chunk, 0:C] = Σ dout·norm, partial[chunk, C:2C] = Σ dout.
template <typename T>
__global__ void layernorm_dparams_partial_kernel(float* partial, const T* dout, const T* inp,
                                                 const float* mean, const float* rstd, int N,
                                                 int C) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  const int r0 = blockIdx.y * kRowsPerChunk, r1 = min(N, r0 + kRowsPerChunk);
  float dw = 0.0f, db = 0.0f;
  for (int r = r0; r < r1; ++r) {
    const std::size_t i = static_cast<std::size_t>(r) * C + c;
    const float g = to_f32(dout[i]);
    dw += g * (to_f32(inp[i]) - mean[r]) * rstd[r];
    db += g;
  }
  float* p = partial + static_cast<std::size_t>(blockIdx.y) * 2 * C;
  p[c] = dw;
  p[C + c] = db;
}

__global__ void layernorm_dparams_reduce_kernel(float* dweight, float* dbias, const float* partial,
                                                int chunks, int C) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  float dw = 0.0f, db = 0.0f;
  for (int k = 0; k < chunks; ++k) {
    dw += partial[static_cast<std::size_t>(k) * 2 * C + c];
    db += partial[static_cast<std::size_t>(k) * 2 * C + C + c];
  }
  dweight[c] += dw;
  dbias[c] += db;
}

}  // namespace

template <typename T>
void layernorm_forward(T* out, float* mean, float* rstd, const T* inp, const T* weight,
                       const T* bias, int N, int C, cudaStream_t stream) {
  const unsigned blocks = static_cast<unsigned>((N + kWarpsPerBlock - 1) / kWarpsPerBlock);
  layernorm_forward_kernel<<<blocks, kWarpsPerBlock * 32, 0, stream>>>(out, mean, rstd, inp,
                                                                       weight, bias, N, C);
  WEFT_CUDA_LAUNCH_CHECK();
}

std::size_t layernorm_backward_scratch(int N, int C) {
  return static_cast<std::size_t>((N + kRowsPerChunk - 1) / kRowsPerChunk) * 2 *
         static_cast<std::size_t>(C);
}

template <typename T>
void layernorm_backward(T* dinp, float* dweight, float* dbias, float* scratch, const T* dout,
                        const T* inp, const T* weight, const float* mean, const float* rstd,
                        int N, int C, bool accumulate, cudaStream_t stream) {
  const unsigned blocks = static_cast<unsigned>((N + kWarpsPerBlock - 1) / kWarpsPerBlock);
  layernorm_dinp_kernel<<<blocks, kWarpsPerBlock * 32, 0, stream>>>(dinp, dout, inp, weight, mean,
                                                                    rstd, N, C, accumulate);
  WEFT_CUDA_LAUNCH_CHECK();
  const int chunks = (N + kRowsPerChunk - 1) / kRowsPerChunk;
  const dim3 grid(detail::blocks_for(static_cast<std::size_t>(C), 256), static_cast<unsigned>(chunks));
  layernorm_dparams_partial_kernel<<<grid, 256, 0, stream>>>(scratch, dout, inp, mean, rstd, N, C);
  WEFT_CUDA_LAUNCH_CHECK();
  layernorm_dparams_reduce_kernel<<<detail::blocks_for(static_cast<std::size_t>(C), 256), 256, 0,
                                    stream>>>(dweight, dbias, scratch, chunks, C);
  WEFT_CUDA_LAUNCH_CHECK();
}

template void layernorm_forward<float>(float*, float*, float*, const float*, const float*, const float*, int, int, cudaStream_t);
template void layernorm_forward<bf16>(bf16*, float*, float*, const bf16*, const bf16*, const bf16*, int, int, cudaStream_t);
template void layernorm_backward<float>(float*, float*, float*, float*, const float*, const float*, const float*, const float*, const float*, int, int, bool, cudaStream_t);
template void layernorm_backward<bf16>(bf16*, float*, float*, float*, const bf16*, const bf16*, const bf16*, const float*, const float*, int, int, bool, cudaStream_t);

}  // namespace weft::cuda
