// AdamW and gradient-norm kernels. See adamw.hpp.
#include <vector>

#include "kernels/cuda/adamw_kernels.hpp"
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/device.hpp"
#include "kernels/cuda/device_math.cuh"

namespace weft::cuda {
namespace {


template <typename T>
__global__ void adamw_kernel(float* p, float* m, float* v, const float* g, T* copy, std::size_t n,
                             AdamWScalars s) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const float gi = __fmul_rn(g[i], s.grad_scale);
  const float pi = __fmul_rn(p[i], s.decay);
  const float mi = __fmaf_rn(gi, s.one_minus_beta1, __fmul_rn(m[i], s.beta1));
  const float vi = __fmaf_rn(__fmul_rn(s.one_minus_beta2, gi), gi, __fmul_rn(v[i], s.beta2));
  const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), s.bc2_sqrt), s.eps);
  m[i] = mi;
  v[i] = vi;
  const float np = __fadd_rn(pi, __fdiv_rn(__fmul_rn(s.neg_step_size, mi), denom));
  p[i] = np;
  if (copy != nullptr) copy[i] = detail::from_f32<T>(np);
}

constexpr unsigned kNormBlocks = 512, kNormThreads = 256;

__global__ void sum_squares_kernel(float* partial, const float* x, std::size_t n) {
  __shared__ float shared[32];
  float s = 0.0f;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += stride)
    s = fmaf(x[i], x[i], s);
  s = detail::block_sum(s, shared);
  if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

}  // namespace

template <typename T>
void adamw_range(float* params, float* m, float* v, const float* grads, T* params_copy,
                 std::size_t count, const AdamWScalars& s, cudaStream_t stream) {
  if (count == 0) return;
  adamw_kernel<T><<<detail::blocks_for(count, 256), 256, 0, stream>>>(params, m, v, grads,
                                                                      params_copy, count, s);
  WEFT_CUDA_LAUNCH_CHECK();
}

std::size_t grad_sum_squares_scratch() { return kNormBlocks; }

double grad_sum_squares(const float* x, std::size_t n, float* scratch, cudaStream_t stream) {
  sum_squares_kernel<<<kNormBlocks, kNormThreads, 0, stream>>>(scratch, x, n);
  WEFT_CUDA_LAUNCH_CHECK();
  std::vector<float> partial(kNormBlocks);
  WEFT_CUDA_CHECK(cudaMemcpyAsync(partial.data(), scratch, kNormBlocks * sizeof(float),
                                  cudaMemcpyDeviceToHost, stream));
  WEFT_CUDA_CHECK(cudaStreamSynchronize(stream));
  double sum = 0.0;
  for (float p : partial) sum += p;
  return sum;
}

template void adamw_range<float>(float*, float*, float*, const float*, float*, std::size_t, const AdamWScalars&, cudaStream_t);
template void adamw_range<bf16>(float*, float*, float*, const float*, bf16*, std::size_t, const AdamWScalars&, cudaStream_t);

}  // namespace weft::cuda
