// Helpers of the GPU tests (tests/cuda/, built only with CUDA): skip without a device,
// move double test data to the device as float or bf16 and back, and round data through
// bf16 so the reference sees exactly the inputs the GPU sees. Header-only (the test build
// compiles tests/**/test_*.cpp only).
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/cpu/bf16.hpp"
#include "kernels/cuda/device.hpp"
#include "kernels/cuda/device_buffer.hpp"

// Every GPU test starts with this: without a device the test is skipped, saying so.
#define WEFT_REQUIRE_CUDA_DEVICE()                                                      \
  do {                                                                                  \
    if (::weft::cuda::device_count() == 0)                                              \
      GTEST_SKIP() << "no CUDA device (" << ::weft::cuda::no_device_reason()            \
                   << "): GPU test skipped; run tools/gpu_check.sh on a GPU machine";   \
  } while (0)

namespace weft::cuda_test {

using cuda::bf16;
using cuda::DeviceBuffer;

// The 16 bits of a device bf16 value (same layout as cpu::bf16).
inline cpu::bf16 bits(bf16 x) { return static_cast<__nv_bfloat16_raw>(x).x; }

template <typename T>
inline T to_t(double x) {
  if constexpr (std::is_same_v<T, float>) {
    return static_cast<float>(x);
  } else {
    __nv_bfloat16_raw raw;
    raw.x = cpu::f32_to_bf16(static_cast<float>(x));
    return T(raw);
  }
}

template <typename T>
inline double from_t(T x) {
  if constexpr (std::is_same_v<T, float>) {
    return x;
  } else {
    return cpu::bf16_to_f32(bits(x));
  }
}

// v with every element rounded to T (the values the device will hold).
template <typename T>
inline std::vector<double> representable(const std::vector<double>& v) {
  std::vector<double> r(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) r[i] = from_t(to_t<T>(v[i]));
  return r;
}

template <typename T>
inline DeviceBuffer<T> upload(const std::vector<double>& v) {
  std::vector<T> h(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) h[i] = to_t<T>(v[i]);
  DeviceBuffer<T> d(v.size());
  d.upload(h);
  return d;
}

template <typename T>
inline std::vector<float> download(const DeviceBuffer<T>& d) {
  const std::vector<T> h = d.to_host();
  std::vector<float> out(h.size());
  for (std::size_t i = 0; i < h.size(); ++i) out[i] = static_cast<float>(from_t(h[i]));
  return out;
}

// Tolerances |got − want| <= atol + rtol·|want| (docs/gpu.md): fp32 kernels against the
// double reference, and bf16 kernels (inputs already bf16, outputs rounded to bf16 and
// intermediate products in bf16 where the kernel stores them).
struct Tol {
  double atol, rtol;
};
template <typename T>
inline Tol tol() {
  if constexpr (std::is_same_v<T, float>)
    return {1e-4, 1e-3};
  else
    return {2e-2, 2e-2};
}

}  // namespace weft::cuda_test
