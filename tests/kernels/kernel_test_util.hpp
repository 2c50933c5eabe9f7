// Helpers shared by the kernel tests: seeded random data, float/double copies, closeness
// checks that report the worst element, and central finite differences in double.
// Header-only because the test build compiles only tests/**/test_*.cpp.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/threads.hpp"

namespace weft::kernel_test {

// Uniform floats in [lo, hi) as doubles that are exactly representable in float, so the
// float kernel and the double reference see the same inputs.
inline std::vector<double> random_vec(std::size_t n, uint64_t seed, double lo = -1.0,
                                      double hi = 1.0) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = static_cast<float>(dist(gen));
  return v;
}

inline std::vector<float> to_float(const std::vector<double>& v) {
  return std::vector<float>(v.begin(), v.end());
}

// Expects |a_i − b_i| <= atol + rtol·|b_i| for all i; reports the worst element.
inline void expect_close(const float* a, const double* b, std::size_t n, double atol, double rtol,
                         const std::string& what) {
  double worst = 0.0;
  std::size_t worst_i = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double excess = std::fabs(a[i] - b[i]) - (atol + rtol * std::fabs(b[i]));
    if (!(excess <= worst)) {  // also catches NaN
      worst = std::isnan(excess) ? INFINITY : excess;
      worst_i = i;
    }
  }
  EXPECT_LE(worst, 0.0) << what << ": element " << worst_i << " got " << a[worst_i]
                        << " expected " << b[worst_i];
}

inline void expect_close(const std::vector<float>& a, const std::vector<double>& b, double atol,
                         double rtol, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  expect_close(a.data(), b.data(), a.size(), atol, rtol, what);
}

// Checks `grad` (the analytic gradient of f at x) against central differences of f,
// perturbing x in place (restored afterwards). Tolerance: tol·(1 + |fd|).
inline void expect_grad_matches_fd(std::vector<double>& x, const std::vector<double>& grad,
                                   const std::function<double()>& f, double tol,
                                   const std::string& what, double h = 1e-5) {
  ASSERT_EQ(x.size(), grad.size()) << what;
  double worst = 0.0;
  std::size_t worst_i = 0;
  double worst_fd = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + h;
    const double fp = f();
    x[i] = saved - h;
    const double fm = f();
    x[i] = saved;
    const double fd = (fp - fm) / (2.0 * h);
    const double err = std::fabs(fd - grad[i]) / (1.0 + std::fabs(fd));
    if (!(err <= worst)) {
      worst = std::isnan(err) ? INFINITY : err;
      worst_i = i;
      worst_fd = fd;
    }
  }
  EXPECT_LE(worst, tol) << what << ": element " << worst_i << " analytic " << grad[worst_i]
                        << " finite difference " << worst_fd;
}

// Σ a_i·r_i: the scalar whose gradient with respect to a is r (turns dout into a loss).
inline double dot(const std::vector<double>& a, const std::vector<double>& r) {
  double s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * r[i];
  return s;
}

// Runs with n kernel threads, restoring the previous count afterwards.
class ScopedThreads {
 public:
  explicit ScopedThreads(int n) : saved_(weft::cpu::num_threads()) { weft::cpu::set_num_threads(n); }
  ~ScopedThreads() { weft::cpu::set_num_threads(saved_); }
  ScopedThreads(const ScopedThreads&) = delete;
  ScopedThreads& operator=(const ScopedThreads&) = delete;

 private:
  int saved_;
};

}  // namespace weft::kernel_test
