// The work the benchmark's workers do, each with an independent way to check it:
// a compute-bound LCG kernel with a closed-form checksum, and a data pattern
// (splitmix64 of the word index) to fill and verify buffers that are moved around.
// Pure functions; any thread or process.
#pragma once

#include <cstddef>
#include <cstdint>

namespace weft::sys::pbench {

// Sum over i in [begin, end) of x_steps(i), where x_0 = i and x_{k+1} = a*x_k + c
// (mod 2^64, Knuth's MMIX constants). Latency-bound integer work, no memory traffic.
uint64_t lcg_kernel(uint64_t begin, uint64_t end, uint32_t steps);
// The same sum in closed form (x_steps(i) = A*i + C), O(steps) instead of O(n*steps).
uint64_t lcg_kernel_closed_form(uint64_t begin, uint64_t end, uint32_t steps);

// Word w of the test pattern for message/buffer number `seed`.
inline uint64_t pattern_word(uint64_t w, uint64_t seed) {
  uint64_t z = w + seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Fills `bytes` bytes at `dst` (bytes % 8 == 0, 8-byte aligned) with pattern `seed`,
// starting at word `first_word`.
void pattern_fill(void* dst, std::size_t bytes, uint64_t seed, uint64_t first_word = 0);
// True when the bytes equal pattern `seed` (same layout as pattern_fill).
bool pattern_check(const void* src, std::size_t bytes, uint64_t seed, uint64_t first_word = 0);

// The triad's input values, exact in double: b[i] and c[i] as functions of i.
inline double triad_b(std::size_t i) { return static_cast<double>(i & 1023u); }
inline double triad_c(std::size_t i) { return static_cast<double>((i >> 10) & 1023u); }
inline constexpr double kTriadScalar = 3.0;

}  // namespace weft::sys::pbench
