// wte's early gradient reduction (parallel/dp_wte_split.hpp): the touched-row set is
// exactly the union of every rank's token ids, and a data-parallel step with the early
// reduction gives bitwise the gradients of the plain step (one late reduction of the
// whole wte range) on 2 and 3 thread ranks at ZeRO 0-3, with gradient accumulation,
// and the single-rank gradients within float rounding.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <set>

#include "dp_wte_checks.hpp"
#include "parallel/comm/thread_communicator.hpp"
#include "parallel/dp_wte_split.hpp"

namespace weft::parallel {
namespace {

TEST(DpWteSplit, TouchedRowsOfAMap) {
  const std::vector<std::uint8_t> map{0, 1, 1, 0, 0, 2, 0, 1};
  EXPECT_EQ(wte_touched_rows(map), (std::vector<std::int32_t>{1, 2, 5, 7}));
  EXPECT_TRUE(wte_touched_rows(std::vector<std::uint8_t>(5, 0)).empty());
}

// 3 ranks with overlapping and rank-private token ids: every rank lists the union,
// no row outside it; the touched rows are zeroed, restored, packed and unpacked.
TEST(DpWteSplit, UnionOfRanksAndRowMoves) {
  constexpr int kRows = 64, kC = 3;
  const std::vector<std::vector<std::int32_t>> tokens{{5, 9, 9, 0}, {9, 40}, {63, 5, 12}};
  std::set<std::int32_t> expect;
  for (const auto& t : tokens) expect.insert(t.begin(), t.end());
  std::mutex mu;
  std::vector<std::vector<std::int32_t>> got(3);
  comm::run_thread_ranks(3, comm::Options{}, [&](comm::Communicator& c) {
    const std::size_t base = 7;  // wte's offset in the flat buffer
    std::vector<float> g(base + kRows * kC + 2);
    for (std::size_t i = 0; i < g.size(); ++i) g[i] = static_cast<float>(i + 1);
    const std::vector<float> orig = g;
    WteSplit w(base, kRows, kC);
    w.begin(c, tokens[static_cast<std::size_t>(c.rank())], "test");
    EXPECT_TRUE(w.active());
    w.wait_union();
    w.take_touched(g.data());
    {
      std::lock_guard lock(mu);
      got[static_cast<std::size_t>(c.rank())] = w.rows();
    }
    for (int row = 0; row < kRows; ++row)
      for (int k = 0; k < kC; ++k) {
        const std::size_t i = base + static_cast<std::size_t>(row * kC + k);
        EXPECT_EQ(g[i], expect.count(row) ? 0.0f : orig[i]) << "row " << row;
      }
    w.restore_touched(g.data());
    EXPECT_EQ(g, orig);
    // Late: the packed rows come back as they were, only inside [lo, hi).
    std::span<float> packed = w.pack(g.data());
    ASSERT_EQ(packed.size(), expect.size() * kC);
    for (float& v : packed) v = -v;
    const std::size_t lo = base + 9 * kC + 1, hi = base + 40 * kC + 2;
    w.unpack(g.data(), lo, hi);
    for (std::size_t i = 0; i < g.size(); ++i) {
      const bool in_rows = i >= base && i < base + kRows * kC &&
                           expect.count(static_cast<std::int32_t>((i - base) / kC));
      EXPECT_EQ(g[i], in_rows && i >= lo && i < hi ? -orig[i] : orig[i]) << i;
    }
    w.end();
    EXPECT_FALSE(w.active());
  });
  for (const auto& rows : got)
    EXPECT_EQ(rows, std::vector<std::int32_t>(expect.begin(), expect.end()));
}

TEST(DpWteSplit, TokenOutsideTheEmbeddingIsAnError) {
  comm::run_thread_ranks(1, comm::Options{}, [&](comm::Communicator& c) {
    WteSplit w(0, 16, 2);
    const std::vector<std::int32_t> bad{3, 16};
    EXPECT_THROW(w.begin(c, bad, "test"), Error);
  });
}

void expect_early_equals_plain(int ranks, int zero) {
  std::mutex mu;
  std::vector<wte_checks::StepResult> plain(static_cast<std::size_t>(ranks)),
      early(static_cast<std::size_t>(ranks));
  comm::run_thread_ranks(ranks, comm::Options{}, [&](comm::Communicator& c) {
    auto a = wte_checks::dp_step(c, zero, false);
    auto b = wte_checks::dp_step(c, zero, true);
    std::lock_guard lock(mu);
    plain[static_cast<std::size_t>(c.rank())] = std::move(a);
    early[static_cast<std::size_t>(c.rank())] = std::move(b);
  });
  const std::vector<float> ref = wte_checks::single_rank_grads(ranks);
  double gmax = 0;
  for (float v : ref) gmax = std::max(gmax, static_cast<double>(std::abs(v)));
  for (int r = 0; r < ranks; ++r) {
    const auto& p = plain[static_cast<std::size_t>(r)];
    const auto& e = early[static_cast<std::size_t>(r)];
    EXPECT_FALSE(p.early);
    EXPECT_TRUE(e.early) << "early wte reduction not in use";
    EXPECT_EQ(wte_checks::first_bit_difference(p.grads, e.grads), -1) << "rank " << r;
    double worst = 0;
    for (std::size_t i = 0; i < ref.size(); ++i)
      if (!std::isnan(e.grads[i]))
        worst = std::max(worst, std::abs(static_cast<double>(e.grads[i]) - ref[i]));
    EXPECT_LE(worst, 1e-5 * gmax) << "rank " << r << " vs the single rank";
  }
}

TEST(DpWteSplit, EarlyEqualsPlainZero0) {
  expect_early_equals_plain(2, 0);
  expect_early_equals_plain(3, 0);
}
TEST(DpWteSplit, EarlyEqualsPlainZero1) {
  expect_early_equals_plain(2, 1);
  expect_early_equals_plain(3, 1);
}
TEST(DpWteSplit, EarlyEqualsPlainZero2) {
  expect_early_equals_plain(2, 2);
  expect_early_equals_plain(3, 2);
}
TEST(DpWteSplit, EarlyEqualsPlainZero3) {
  expect_early_equals_plain(2, 3);
  expect_early_equals_plain(3, 3);
}

}  // namespace
}  // namespace weft::parallel
