// Worker pools of `weft bench parallel`: forked workers report exit codes and
// signals faithfully, share memory with the parent, and meet at the shared barrier.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>

#include "sys/parallel_bench/sync.hpp"
#include "sys/parallel_bench/workers.hpp"

namespace weft::sys::pbench {
namespace {

TEST(ParallelBenchWorkers, ProcessesReportExitCodesAndSignals) {
  const auto out = run_workers(WorkerKind::kProcess, 3, [](int i) {
    if (i == 2) raise(SIGKILL);
    return i == 1 ? 5 : 0;
  });
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(out[0].ok());
  EXPECT_FALSE(out[1].signaled);
  EXPECT_EQ(out[1].exit_code, 5);
  EXPECT_TRUE(out[2].signaled);
  EXPECT_EQ(out[2].signal, SIGKILL);
  EXPECT_EQ(out[2].describe(), "killed by signal 9 (SIGKILL)");
  EXPECT_THROW(require_all_ok(out, "test"), Error);
}

TEST(ParallelBenchWorkers, ChildrenWriteSharedRegionParentReads) {
  SharedRegion region(64 * sizeof(uint64_t));
  auto* slots = region.as<uint64_t>();
  const auto out = run_workers(WorkerKind::kProcess, 4, [&](int i) {
    slots[i] = 1000 + static_cast<uint64_t>(i);
    return 0;
  });
  require_all_ok(out, "test");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(slots[i], 1000u + static_cast<uint64_t>(i));
}

// Each phase, every worker adds 1; after the barrier each checks that all n adds of
// the phase landed: a barrier that lets anyone through early fails this.
void barrier_phases(WorkerKind kind) {
  struct State {
    SharedBarrier barrier;
    std::atomic<uint32_t> counter;
    std::atomic<uint32_t> errors;
  };
  constexpr int kWorkers = 3, kPhases = 50;
  SharedRegion region(sizeof(State));
  auto* st = region.construct<State>();
  st->barrier.init(kWorkers);
  const auto out = run_workers(kind, kWorkers, [&](int) {
    for (uint32_t p = 1; p <= kPhases; ++p) {
      st->counter.fetch_add(1);
      if (!st->barrier.arrive_and_wait(Deadline::in(20))) return kWorkerTimeout;
      if (st->counter.load() < p * kWorkers) st->errors.fetch_add(1);
      if (!st->barrier.arrive_and_wait(Deadline::in(20))) return kWorkerTimeout;
    }
    return 0;
  });
  require_all_ok(out, "barrier");
  EXPECT_EQ(st->counter.load(), static_cast<uint32_t>(kWorkers * kPhases));
  EXPECT_EQ(st->errors.load(), 0u);
}

TEST(ParallelBenchWorkers, SharedBarrierHoldsThreads) { barrier_phases(WorkerKind::kThread); }
TEST(ParallelBenchWorkers, SharedBarrierHoldsProcesses) { barrier_phases(WorkerKind::kProcess); }

TEST(ParallelBenchWorkers, BarrierTimesOutWhenAPartyIsMissing) {
  SharedBarrier b;
  b.init(2);
  const double t0 = now_s();
  EXPECT_FALSE(b.arrive_and_wait(Deadline::in(0.1)));
  EXPECT_GE(now_s() - t0, 0.09);
}

}  // namespace
}  // namespace weft::sys::pbench
