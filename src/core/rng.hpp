// Seeded random numbers that are identical on every platform and compiler (the
// standard library's distributions are not), so runs are reproducible and
// checkpoints can store and restore the exact state.
// xoshiro256** seeded through splitmix64. A value type: each owner keeps its own;
// not shared between threads.
#pragma once

#include <array>
#include <cstdint>

namespace weft {

class Rng {
 public:
  using State = std::array<std::uint64_t, 4>;

  explicit Rng(std::uint64_t seed = 0);
  // An independent stream derived from (seed, stream), e.g. one per rank.
  static Rng stream(std::uint64_t seed, std::uint64_t stream_id);

  std::uint64_t next_u64();
  std::uint32_t next_u32() { return static_cast<std::uint32_t>(next_u64() >> 32); }
  // Uniform in [0, 1) with 24 random bits (float) or 53 bits (double).
  float uniform();
  double uniform_double();
  // Uniform integer in [0, n), without modulo bias. n > 0.
  std::uint64_t below(std::uint64_t n);
  // Standard normal (Box–Muller, the cached second value is kept in the state).
  float normal();
  double normal_double();

  State state() const { return s_; }
  void set_state(const State& s) {
    s_ = s;
    has_spare_ = false;
  }

 private:
  State s_{};
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace weft
