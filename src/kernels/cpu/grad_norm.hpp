// Global gradient norm and clip-by-global-norm (torch.nn.utils.clip_grad_norm_).
// Sums of squares are accumulated in double; deterministic for a given thread count.
// A distributed run sums grad_sum_squares over its shards before taking the root.
// Call from one thread (OpenMP inside).
#pragma once

#include <cstddef>

namespace weft::cpu {

// Σ x_i² over n floats, in double.
double grad_sum_squares(const float* x, std::size_t n);

// The factor PyTorch multiplies gradients by: min(1, max_norm / (norm + 1e-6)).
// max_norm <= 0 means no clipping (returns 1).
float grad_clip_scale(double norm, float max_norm);

// x (n) *= s.
void scale_inplace(float* x, std::size_t n, float s);

}  // namespace weft::cpu
