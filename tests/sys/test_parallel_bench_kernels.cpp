// The checks `weft bench parallel` relies on: the LCG kernel's closed form, the
// data pattern, the ping-pong framing. Compared against plain loops written here.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "sys/parallel_bench/kernels.hpp"
#include "sys/parallel_bench/pingpong.hpp"
#include "sys/parallel_bench/report.hpp"

namespace weft::sys::pbench {
namespace {

// x_{k+1} = a x_k + c, written out independently of kernels.cpp.
uint64_t naive_sum(uint64_t begin, uint64_t end, uint32_t steps) {
  uint64_t sum = 0;
  for (uint64_t i = begin; i < end; ++i) {
    uint64_t x = i;
    for (uint32_t k = 0; k < steps; ++k) x = x * 6364136223846793005ull + 1442695040888963407ull;
    sum += x;
  }
  return sum;
}

TEST(ParallelBenchKernels, ClosedFormMatchesLoopOnManyRanges) {
  for (uint64_t begin : {0ull, 1ull, 7ull, 1000ull, (1ull << 40) + 3}) {
    for (uint64_t len : {0ull, 1ull, 2ull, 33ull, 1001ull}) {
      for (uint32_t steps : {0u, 1u, 5u, 64u}) {
        SCOPED_TRACE(testing::Message() << begin << "+" << len << " steps " << steps);
        EXPECT_EQ(lcg_kernel_closed_form(begin, begin + len, steps), naive_sum(begin, begin + len, steps));
        EXPECT_EQ(lcg_kernel(begin, begin + len, steps), naive_sum(begin, begin + len, steps));
      }
    }
  }
}

TEST(ParallelBenchKernels, SplitSumsAddUpToTheWhole) {
  const uint64_t n = 10007;
  for (uint64_t workers : {1ull, 2ull, 3ull, 8ull}) {
    uint64_t total = 0;
    for (uint64_t w = 0; w < workers; ++w) total += lcg_kernel(n * w / workers, n * (w + 1) / workers, 16);
    EXPECT_EQ(total, lcg_kernel_closed_form(0, n, 16));
  }
}

TEST(ParallelBenchKernels, PatternCheckCatchesOneFlippedBit) {
  std::vector<uint64_t> buf(1000);
  pattern_fill(buf.data(), buf.size() * 8, 42);
  EXPECT_TRUE(pattern_check(buf.data(), buf.size() * 8, 42));
  EXPECT_FALSE(pattern_check(buf.data(), buf.size() * 8, 43));  // another message's pattern
  buf[777] ^= 1ull << 13;
  EXPECT_FALSE(pattern_check(buf.data(), buf.size() * 8, 42));
}

TEST(ParallelBenchKernels, PongRejectsWrongPayloadAndAnswersRightOne) {
  std::vector<uint64_t> msg(16);
  msg[0] = 6 | kPingVerify;
  pattern_fill(msg.data() + 1, 15 * 8, 6);
  bool stop = true;
  ASSERT_TRUE(pong_prepare_reply(msg.data(), 16 * 8, &stop));
  EXPECT_FALSE(stop);
  EXPECT_EQ(msg[0], 7 | kPingVerify);
  EXPECT_TRUE(pattern_check(msg.data() + 1, 15 * 8, 7));

  msg[0] = 8 | kPingVerify;
  pattern_fill(msg.data() + 1, 15 * 8, 8);
  msg[9] ^= 4;
  EXPECT_FALSE(pong_prepare_reply(msg.data(), 16 * 8, &stop));

  msg[0] = kPingStop;
  ASSERT_TRUE(pong_prepare_reply(msg.data(), 16 * 8, &stop));
  EXPECT_TRUE(stop);
}

TEST(ParallelBenchKernels, WorkerCountsCoverOneToN) {
  EXPECT_EQ(worker_counts(1), (std::vector<int>{1}));
  EXPECT_EQ(worker_counts(3), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(worker_counts(12), (std::vector<int>{1, 2, 4, 8, 12}));
  EXPECT_EQ(worker_counts(16), (std::vector<int>{1, 2, 4, 8, 16}));
}

}  // namespace
}  // namespace weft::sys::pbench
