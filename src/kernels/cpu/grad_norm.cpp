// Global gradient norm (sum of squares in double) and clipping (see grad_norm.hpp).
#include "kernels/cpu/grad_norm.hpp"

#include <omp.h>

#include <cmath>
#include <vector>

namespace weft::cpu {

double grad_sum_squares(const float* x, std::size_t n) {
  // Static split into one chunk per thread; partial sums added in thread order.
  const int threads = omp_get_max_threads();
  std::vector<double> partial(static_cast<std::size_t>(threads), 0.0);
#pragma omp parallel num_threads(threads)
  {
    const std::size_t tid = static_cast<std::size_t>(omp_get_thread_num());
    const std::size_t nt = static_cast<std::size_t>(omp_get_num_threads());
    const std::size_t chunk = (n + nt - 1) / nt;
    const std::size_t lo = std::min(n, tid * chunk);
    const std::size_t hi = std::min(n, lo + chunk);
    double acc = 0.0;
#pragma omp simd reduction(+ : acc)
    for (std::size_t i = lo; i < hi; ++i) acc += static_cast<double>(x[i]) * x[i];
    partial[tid] = acc;
  }
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

float grad_clip_scale(double norm, float max_norm) {
  if (max_norm <= 0.0f) return 1.0f;
  const double coef = static_cast<double>(max_norm) / (norm + 1e-6);
  return coef < 1.0 ? static_cast<float>(coef) : 1.0f;
}

void scale_inplace(float* x, std::size_t n, float s) {
#pragma omp parallel for simd schedule(static)
  for (std::size_t i = 0; i < n; ++i) x[i] *= s;
}

}  // namespace weft::cpu
