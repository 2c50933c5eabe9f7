// GELU (tanh approximation) forward/backward, vectorised through vec_math.hpp.
#include "kernels/cpu/gelu.hpp"

#include <cstddef>

#include "kernels/cpu/vec_math.hpp"

namespace weft::cpu {
namespace {
constexpr float kGeluScale = 0.7978845608028654f;  // sqrt(2/pi)
constexpr float kGeluCubic = 0.044715f;
}  // namespace

void gelu_forward(float* out, const float* inp, std::size_t n) {
#pragma omp parallel for simd schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    const float x = inp[i];
    const float th = detail::tanh_fast(kGeluScale * (x + kGeluCubic * x * x * x));
    out[i] = 0.5f * x * (1.0f + th);
  }
}

void gelu_backward(float* dinp, const float* dout, const float* inp, std::size_t n) {
#pragma omp parallel for simd schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    const float x = inp[i];
    const float th = detail::tanh_fast(kGeluScale * (x + kGeluCubic * x * x * x));
    const float dth = (1.0f - th * th) * kGeluScale * (1.0f + 3.0f * kGeluCubic * x * x);
    dinp[i] = (0.5f * (1.0f + th) + 0.5f * x * dth) * dout[i];
  }
}

}  // namespace weft::cpu
