// bfloat16 storage type and fp32 <-> bf16 conversion (round to nearest even, NaN kept
// a quiet NaN). Pure functions over caller-owned buffers; any thread may call them
// (the array versions use OpenMP inside, so call those from one thread).
#pragma once

#include <cstddef>
#include <cstdint>

namespace weft::cpu {

using bf16 = std::uint16_t;  // the upper 16 bits of an IEEE fp32

// One value, round to nearest even; NaN stays NaN (quiet bit set).
inline bf16 f32_to_bf16(float x) {
  std::uint32_t u;
  __builtin_memcpy(&u, &x, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<bf16>((u >> 16) | 0x40u);
  // Adding 0x7fff plus the lowest kept bit rounds half to even; overflow to inf is correct.
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<bf16>(u >> 16);
}

inline float bf16_to_f32(bf16 h) {
  const std::uint32_t u = static_cast<std::uint32_t>(h) << 16;
  float x;
  __builtin_memcpy(&x, &u, sizeof x);
  return x;
}

// out (n) = round-to-nearest-even bf16 of in (n). Vectorised (branch-free loop).
void f32_to_bf16_array(bf16* out, const float* in, std::size_t n);
// out (n) = exact fp32 of in (n).
void bf16_to_f32_array(float* out, const bf16* in, std::size_t n);

}  // namespace weft::cpu
