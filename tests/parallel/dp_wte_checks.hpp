// Shared by test_dp_wte_split.cpp (thread ranks) and dp_wte_mpi_main.cpp (MPI ranks):
// one optimizer step's gradients of a d2 model (vocab 512) under data parallelism,
// two micro-batches (the first does not synchronise), with and without wte's early
// reduction. Token ids stay below 200 except one row per rank (400 + rank) and one
// row touched only by the first micro-batch (450), so wte has untouched rows in every
// rank's ZeRO piece, rows touched by one rank only, and rows final before the last
// micro-batch. Header-only test helper; call from the rank's own thread.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "model/gpt_config.hpp"
#include "model/gpt_model.hpp"
#include "parallel/comm/communicator.hpp"
#include "parallel/data_parallel.hpp"

namespace weft::parallel::wte_checks {

inline constexpr int kB = 2, kT = 16, kVocab = 512, kMicro = 2;

inline model::GptConfig config() { return model::gpt_config_preset("d2", kVocab, kT); }

// Tokens (inputs and targets, kB·kT each) of `rank`'s micro-batch `micro`.
inline void batch(int rank, int micro, std::vector<std::int32_t>& x, std::vector<std::int32_t>& y) {
  x.resize(kB * kT);
  y.resize(kB * kT);
  for (int i = 0; i < kB * kT; ++i) {
    const auto u = static_cast<std::size_t>(i);
    x[u] = (i * 37 + rank * 11 + micro * 5) % 200;
    y[u] = (i * 53 + rank * 7 + micro) % 200;
  }
  x[3] = 400 + rank;
  if (micro == 0) x[5] = 450;
}

struct StepResult {
  // The gradient this rank keeps after finish_grads(): everything under ZeRO-0, its
  // own pieces and the tails under ZeRO >= 1 (NaN elsewhere).
  std::vector<float> grads;
  bool early = false;  // DataParallel::early_wte()
};

inline StepResult dp_step(comm::Communicator& c, int zero, bool early) {
  model::GptModel m(config(), kB, kT, true);
  m.init_weights(3);
  DataParallelOptions o;
  o.zero = zero;
  o.bucket_bytes = 64 << 10;  // several buckets; the last holds wpe (+ wte) and layer 0
  o.early_wte = early;
  DataParallel dp(c, m, o);
  const float scale = 1.0f / static_cast<float>(kB * kT * kMicro * c.size());
  std::vector<std::int32_t> x, y;
  dp.set_step(0);
  dp.zero_grads();
  for (int micro = 0; micro < kMicro; ++micro) {
    dp.begin_micro(micro + 1 == kMicro);
    batch(c.rank(), micro, x, y);
    m.forward_train(x.data(), y.data(), nullptr, kB, kT, scale);
    m.backward();
  }
  dp.finish_grads();
  StepResult r;
  r.early = dp.early_wte();
  r.grads.assign(m.grads(), m.grads() + m.num_params());
  if (zero >= 1) {
    std::vector<char> keep(m.num_params(), 0);
    for (const DpBucket& bk : dp.plan().buckets())
      for (const DpRange& rg : bk.ranges) {
        const std::size_t a = dp.plan().piece_begin(rg, c.rank());
        std::fill(keep.begin() + static_cast<std::ptrdiff_t>(a),
                  keep.begin() + static_cast<std::ptrdiff_t>(a + dp.plan().piece(rg)), 1);
        std::fill(keep.begin() + static_cast<std::ptrdiff_t>(dp.plan().tail_begin(rg)),
                  keep.begin() + static_cast<std::ptrdiff_t>(rg.end), 1);
      }
    for (std::size_t i = 0; i < keep.size(); ++i)
      if (!keep[i]) r.grads[i] = std::numeric_limits<float>::quiet_NaN();
  }
  return r;
}

// The same step on one rank: every rank's micro-batches in turn (sum of the dp
// gradients up to float rounding order).
inline std::vector<float> single_rank_grads(int ranks) {
  model::GptModel m(config(), kB, kT, true);
  m.init_weights(3);
  m.zero_grad();
  const float scale = 1.0f / static_cast<float>(kB * kT * kMicro * ranks);
  std::vector<std::int32_t> x, y;
  for (int micro = 0; micro < kMicro; ++micro)
    for (int r = 0; r < ranks; ++r) {
      batch(r, micro, x, y);
      m.forward_train(x.data(), y.data(), nullptr, kB, kT, scale);
      m.backward();
    }
  return {m.grads(), m.grads() + m.num_params()};
}

// Index of the first element whose bits differ (NaN positions must match), or -1.
inline long long first_bit_difference(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    std::uint32_t ua = 0, ub = 0;
    std::memcpy(&ua, &a[i], 4);
    std::memcpy(&ub, &b[i], 4);
    if (ua != ub) return static_cast<long long>(i);
  }
  return -1;
}

}  // namespace weft::parallel::wte_checks
