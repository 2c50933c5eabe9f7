// fp32 <-> bf16 array conversion (see bf16.hpp). Written branch-free so GCC turns
// the loop into AVX-512/AVX2 integer ops; the rounding is the same as f32_to_bf16().
#include "kernels/cpu/bf16.hpp"

#include <bit>

namespace weft::cpu {

void f32_to_bf16_array(bf16* out, const float* in, std::size_t n) {
#pragma omp parallel for simd schedule(static) if (n > (1u << 16))
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t u = std::bit_cast<std::uint32_t>(in[i]);
    const std::uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    const std::uint32_t nan = (u >> 16) | 0x40u;
    out[i] = static_cast<bf16>((u & 0x7fffffffu) > 0x7f800000u ? nan : rounded);
  }
}

void bf16_to_f32_array(float* out, const bf16* in, std::size_t n) {
#pragma omp parallel for simd schedule(static) if (n > (1u << 16))
  for (std::size_t i = 0; i < n; ++i) out[i] = std::bit_cast<float>(static_cast<std::uint32_t>(in[i]) << 16);
}

}  // namespace weft::cpu
