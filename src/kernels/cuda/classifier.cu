// Fused classifier kernel. See classifier.hpp.
#include "kernels/cuda/classifier.hpp"
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/device.hpp"
#include "kernels/cuda/device_math.cuh"

namespace weft::cuda {
namespace {
using detail::from_f32;
using detail::to_f32;

constexpr unsigned kThreads = 512;

template <typename T>
__global__ void classifier_kernel(T* logits, float* losses, const int32_t* targets,
                                  const float* weights, int V, int Vp, float dscale,
                                  bool write_grad) {
  __shared__ float shared[32];
  const int row = blockIdx.x;
  T* x = logits + static_cast<std::size_t>(row) * Vp;
  const float w = weights ? weights[row] : 1.0f;
  float mx = -INFINITY;
  for (int j = threadIdx.x; j < V; j += blockDim.x) mx = fmaxf(mx, to_f32(x[j]));
  mx = detail::block_max(mx, shared);
  float sum = 0.0f;
  for (int j = threadIdx.x; j < V; j += blockDim.x) sum += expf(to_f32(x[j]) - mx);
  sum = detail::block_sum(sum, shared);
  const int target = targets[row];
  if (threadIdx.x == 0) {
    // loss = logsumexp − x[target]
    losses[row] = w != 0.0f ? (logf(sum) + mx - to_f32(x[target])) : 0.0f;
  }
  if (!write_grad) return;
  __syncthreads();  // the target logit is read above before anyone overwrites it
  const float inv = 1.0f / sum;
  const float g = dscale * w;
  for (int j = threadIdx.x; j < Vp; j += blockDim.x) {
    float d = 0.0f;
    if (j < V && g != 0.0f) d = g * (expf(to_f32(x[j]) - mx) * inv - (j == target ? 1.0f : 0.0f));
    x[j] = from_f32<T>(d);
  }
}

}  // namespace

template <typename T>
void classifier_forward(T* logits, float* losses, const int32_t* targets, const float* weights,
                        int N, int V, int Vp, float dscale, bool write_grad, cudaStream_t stream) {
  if (N == 0) return;
  classifier_kernel<<<static_cast<unsigned>(N), kThreads, 0, stream>>>(logits, losses, targets,
                                                                       weights, V, Vp, dscale,
                                                                       write_grad);
  WEFT_CUDA_LAUNCH_CHECK();
}

template void classifier_forward<float>(float*, float*, const int32_t*, const float*, int, int, int, float, bool, cudaStream_t);
template void classifier_forward<bf16>(bf16*, float*, const int32_t*, const float*, int, int, int, float, bool, cudaStream_t);

}  // namespace weft::cuda
