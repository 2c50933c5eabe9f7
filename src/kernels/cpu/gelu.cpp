// GELU (tanh approximation) forward/backward, vectorised through vec_math.hpp.
#include "kernels/cpu/gelu.hpp"

#include <cstddef>

#include "kernels/cpu/vec_math.hpp"

namespace weft::cpu {
namespace {
constexpr float kGeluScale = 0.7978845608028654f;  // sqrt(2/pi)
constexpr float kGeluCubic = 0.044715f;

// With e = exp(2u): 1 + tanh(u) = 2e/(e+1) and 1 − tanh(u) = 2/(e+1), both without
// cancellation, so the far negative tail keeps its (tiny) relative accuracy.
inline float exp_2u(float x) {
  float u = kGeluScale * (x + kGeluCubic * x * x * x);
  u = u < -43.0f ? -43.0f : u;  // e^{±86} stays finite in float
  u = u > 43.0f ? 43.0f : u;
  return detail::exp_fast(2.0f * u);
}

}  // namespace

void gelu_forward(float* out, const float* inp, std::size_t n) {
#pragma omp parallel for simd schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    const float x = inp[i];
    const float e = exp_2u(x);
    out[i] = x * e / (e + 1.0f);  // 0.5·x·(1 + tanh u)
  }
}

void gelu_backward(float* dinp, const float* dout, const float* inp, std::size_t n) {
#pragma omp parallel for simd schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    const float x = inp[i];
    const float e = exp_2u(x);
    const float r = 1.0f / (e + 1.0f);
    const float one_plus = 2.0f * e * r;  // 1 + tanh u
    const float one_minus = 2.0f * r;     // 1 − tanh u
    const float dth = one_plus * one_minus * kGeluScale * (1.0f + 3.0f * kGeluCubic * x * x);
    dinp[i] = (0.5f * one_plus + 0.5f * x * dth) * dout[i];
  }
}

}  // namespace weft::cpu
