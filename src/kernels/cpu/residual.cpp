// Residual add forward/backward (see residual.hpp).
#include "kernels/cpu/residual.hpp"

#include <cstddef>

namespace weft::cpu {

void residual_forward(float* out, const float* inp1, const float* inp2, std::size_t n) {
#pragma omp parallel for simd schedule(static)
  for (std::size_t i = 0; i < n; ++i) out[i] = inp1[i] + inp2[i];
}

void residual_backward(float* dinp1, float* dinp2, const float* dout, std::size_t n) {
#pragma omp parallel for simd schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    dinp1[i] = dout[i];
    dinp2[i] = dout[i];
  }
}

void residual_backward_add(float* dinp1, float* dinp2, const float* dout, std::size_t n) {
#pragma omp parallel for simd schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    dinp1[i] += dout[i];
    dinp2[i] += dout[i];
  }
}

void add_inplace(float* y, const float* x, std::size_t n) {
#pragma omp parallel for simd schedule(static)
  for (std::size_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace weft::cpu
