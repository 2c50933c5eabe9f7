// Pipeline schedules against closed forms: GPipe and 1F1B action lists (every
// micro-batch once forward then once backward, in order), the in-flight bound
// min(pp - stage, m) of 1F1B, and a unit-time simulation of all stages whose idle
// fraction must equal the theory (pp-1)/(m+pp-1) and which must never deadlock.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "core/error.hpp"
#include "parallel/pipeline_schedule.hpp"

namespace weft {
namespace {

using parallel::PipeAction;
using parallel::PipeSchedule;

TEST(PipeSchedule, EveryMicroBatchForwardThenBackwardInOrder) {
  for (PipeSchedule s : {PipeSchedule::kGpipe, PipeSchedule::k1F1B})
    for (int pp : {1, 2, 3, 4})
      for (int m : {1, 2, 3, 4, 8})
        for (int stage = 0; stage < pp; ++stage) {
          const std::vector<PipeAction> a = parallel::pipe_actions(s, stage, pp, m);
          ASSERT_EQ(a.size(), static_cast<std::size_t>(2 * m));
          int f = 0, b = 0;
          for (const PipeAction& x : a) {
            if (x.forward) {
              EXPECT_EQ(x.micro, f++);
            } else {
              EXPECT_EQ(x.micro, b++);
              EXPECT_LT(x.micro, f) << "backward before its forward";
            }
          }
        }
}

TEST(PipeSchedule, InFlightBound) {
  for (int pp : {2, 4})
    for (int m : {1, 2, 4, 8})
      for (int s = 0; s < pp; ++s) {
        EXPECT_EQ(parallel::pipe_max_in_flight(PipeSchedule::kGpipe, s, pp, m), m);
        EXPECT_EQ(parallel::pipe_max_in_flight(PipeSchedule::k1F1B, s, pp, m), std::min(pp - s, m));
      }
}

// All stages in lock-step with forward = backward = 1 tick: an action runs once its
// inputs exist (forward i needs forward i of the stage before, backward i needs
// backward i of the stage after). Returns the makespan in ticks (-1 on deadlock).
int simulate(PipeSchedule s, int pp, int m) {
  std::vector<std::vector<PipeAction>> acts;
  for (int st = 0; st < pp; ++st) acts.push_back(parallel::pipe_actions(s, st, pp, m));
  // done_f[st][i] / done_b[st][i]: tick at which it finished (-1: not yet).
  std::vector<std::vector<int>> done_f(pp, std::vector<int>(m, -1)), done_b = done_f;
  std::vector<std::size_t> next(pp, 0);
  int tick = 0, left = 2 * m * pp;
  while (left > 0) {
    bool progress = false;
    for (int st = 0; st < pp; ++st) {
      if (next[st] == acts[st].size()) continue;
      const PipeAction a = acts[st][next[st]];
      const int i = a.micro;
      const bool ready =
          a.forward ? (st == 0 || (done_f[st - 1][i] >= 0 && done_f[st - 1][i] < tick))
                    : (st == pp - 1 || (done_b[st + 1][i] >= 0 && done_b[st + 1][i] < tick));
      if (!ready) continue;
      (a.forward ? done_f : done_b)[st][i] = tick;
      ++next[st];
      --left;
      progress = true;
    }
    ++tick;
    if (!progress && tick > 4 * m * pp + 4) return -1;
  }
  return tick;
}

TEST(PipeSchedule, SimulatedBubbleEqualsTheory) {
  for (PipeSchedule s : {PipeSchedule::kGpipe, PipeSchedule::k1F1B})
    for (int pp : {1, 2, 4})
      for (int m : {1, 2, 4, 8}) {
        const int ticks = simulate(s, pp, m);
        ASSERT_GT(ticks, 0) << "deadlock pp=" << pp << " m=" << m;
        EXPECT_EQ(ticks, 2 * (m + pp - 1)) << "pp=" << pp << " m=" << m;
        const double idle = 1.0 - 2.0 * m / ticks;
        EXPECT_NEAR(idle, parallel::pipe_bubble_theory(pp, m), 1e-12);
      }
}

TEST(PipeSchedule, ParseNamesTheFlag) {
  EXPECT_EQ(parallel::parse_pipe_schedule("gpipe"), PipeSchedule::kGpipe);
  EXPECT_EQ(parallel::parse_pipe_schedule("1f1b"), PipeSchedule::k1F1B);
  try {
    parallel::parse_pipe_schedule("zb");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--schedule"), std::string::npos);
  }
}

}  // namespace
}  // namespace weft
