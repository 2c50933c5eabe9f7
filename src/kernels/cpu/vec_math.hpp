// Branch-free float exp that GCC vectorises inside `#pragma omp simd` loops (libm's
// expf does not vectorise without -ffast-math). Accuracy: within ~2 ulp on
// [-87, 88] (Cephes polynomial). Internal to kernels/cpu.
#pragma once

#include <bit>
#include <cstdint>

namespace weft::cpu::detail {

// e^x for x in any range: inputs are clamped to [-87.3, 88.7] (results ~1e-38 .. ~3e38).
inline float exp_fast(float x) {
  x = x < -87.3f ? -87.3f : x;
  x = x > 88.7f ? 88.7f : x;
  // x = n·ln2 + r with |r| <= ln2/2; ln2 split in two for an exact n·ln2_hi.
  // Round to nearest with the 1.5·2^23 trick (vectorises; roundeven does not). Exact for
  // |x·log2e| < 2^22, which the clamp ensures; needs no -ffast-math reassociation.
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // 2^n by building the exponent field (n in [-126, 128): 128 only for x ~ 88.7,
  // where p < 1 keeps the product finite — handled by splitting the scale).
  int32_t ni = static_cast<int32_t>(n);
  int32_t half = ni >> 1;
  float s1 = std::bit_cast<float>((half + 127) << 23);
  float s2 = std::bit_cast<float>((ni - half + 127) << 23);
  return p * s1 * s2;
}

}  // namespace weft::cpu::detail
