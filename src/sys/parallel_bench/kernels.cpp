// Compute kernel and data pattern, see kernels.hpp.
#include "sys/parallel_bench/kernels.hpp"

#include <cstring>

namespace weft::sys::pbench {
namespace {

constexpr uint64_t kA = 6364136223846793005ull;
constexpr uint64_t kC = 1442695040888963407ull;

// Sum of i for i in [0, n), mod 2^64: n(n-1)/2 with the halving done before the product.
uint64_t triangle(uint64_t n) {
  if (n == 0) return 0;
  return (n % 2 == 0) ? (n / 2) * (n - 1) : n * ((n - 1) / 2);
}

}  // namespace

uint64_t lcg_kernel(uint64_t begin, uint64_t end, uint32_t steps) {
  uint64_t sum = 0;
  for (uint64_t i = begin; i < end; ++i) {
    uint64_t x = i;
    for (uint32_t k = 0; k < steps; ++k) x = kA * x + kC;
    sum += x;
  }
  return sum;
}

uint64_t lcg_kernel_closed_form(uint64_t begin, uint64_t end, uint32_t steps) {
  // x_k(i) = A_k * i + C_k with A_{k+1} = a*A_k, C_{k+1} = a*C_k + c.
  uint64_t big_a = 1, big_c = 0;
  for (uint32_t k = 0; k < steps; ++k) {
    big_a *= kA;
    big_c = kA * big_c + kC;
  }
  if (end <= begin) return 0;
  const uint64_t sum_i = triangle(end) - triangle(begin);
  return big_a * sum_i + big_c * (end - begin);
}

void pattern_fill(void* dst, std::size_t bytes, uint64_t seed, uint64_t first_word) {
  auto* words = static_cast<uint64_t*>(dst);
  const std::size_t n = bytes / 8;
  for (std::size_t w = 0; w < n; ++w) words[w] = pattern_word(first_word + w, seed);
}

bool pattern_check(const void* src, std::size_t bytes, uint64_t seed, uint64_t first_word) {
  const auto* words = static_cast<const uint64_t*>(src);
  const std::size_t n = bytes / 8;
  uint64_t diff = 0;
  for (std::size_t w = 0; w < n; ++w) diff |= words[w] ^ pattern_word(first_word + w, seed);
  return diff == 0;
}

}  // namespace weft::sys::pbench
