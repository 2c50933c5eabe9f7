// Ping-pong channels of `weft bench parallel`: every transport delivers payloads
// intact in both directions, between threads and between forked processes.
#include <gtest/gtest.h>

#include "sys/parallel_bench/channels.hpp"
#include "sys/parallel_bench/kernels.hpp"
#include "sys/parallel_bench/pingpong.hpp"
#include "sys/parallel_bench/scenarios.hpp"
#include "sys/parallel_bench/workers.hpp"

namespace weft::sys::pbench {
namespace {

Options tiny_options() {
  Options o = make_options(2, /*quick=*/true);
  o.pingpong_sizes = {8, 4096, 100000};
  o.pingpong_budget_s = 0.005;
  o.peer_timeout_s = 10;
  return o;
}

TEST(ParallelBenchLatency, EveryTransportVerifiesAndTimes) {
  const LatencyResult r = run_latency(tiny_options());
  ASSERT_EQ(r.rows.size(), 6u);
  for (const auto& row : r.rows) {
    SCOPED_TRACE(row.transport);
    EXPECT_TRUE(row.available);
    EXPECT_TRUE(row.verified);
    ASSERT_EQ(row.points.size(), 3u);
    for (const auto& p : row.points) {
      EXPECT_GT(p.one_way_us, 0);
      EXPECT_GT(p.round_trips, 0u);
    }
  }
}

}  // namespace
}  // namespace weft::sys::pbench
