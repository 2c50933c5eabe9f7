// The C++17 side of AdamW and the gradient norm (compiled by nvcc): one range's update
// with its scalars already formed, and the deterministic sum of squares. The span-based
// adamw_update in adamw.hpp is the interface to use. One host thread per stream.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

namespace weft::cuda {

// One contiguous range with scalars already formed (the .cu side of adamw_update,
// which stays C++17 for nvcc): decay is 1 - lr·wd or 1.
struct AdamWScalars {
  float beta1, beta2, one_minus_beta1, one_minus_beta2, neg_step_size, bc2_sqrt, eps, decay;
  float grad_scale;
};
template <typename T>
void adamw_range(float* params, float* m, float* v, const float* grads, T* params_copy,
                 std::size_t count, const AdamWScalars& s, cudaStream_t stream);

// Floats of scratch grad_sum_squares needs.
std::size_t grad_sum_squares_scratch();
// Σ x_i² over n floats: fixed block partition (deterministic), partials summed on the host
// in double. Synchronises the stream.
double grad_sum_squares(const float* x, std::size_t n, float* scratch, cudaStream_t stream);

}  // namespace weft::cuda
