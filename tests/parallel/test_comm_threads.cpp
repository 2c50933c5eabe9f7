// Thread-backend communicator tests: every collective × world sizes {1,2,3,4} ×
// counts {0, 1, 1001, 1<<20} against closed forms (comm_checks.hpp), bitwise
// determinism of the documented reduction order, and the fault paths (timeout
// naming the missing rank, a rank that throws or leaves, mismatched collectives).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "comm_checks.hpp"
#include "core/rng.hpp"
#include "core/timer.hpp"
#include "parallel/comm/launch.hpp"
#include "parallel/comm/thread_communicator.hpp"

namespace weft::comm {
namespace {

using namespace std::chrono_literals;

Options short_timeout(std::chrono::milliseconds t = 1000ms) {
  Options o;
  o.timeout = t;
  return o;
}

class CommThreads : public ::testing::TestWithParam<int> {};

TEST_P(CommThreads, AllCollectivesMatchClosedForms) {
  const int n = GetParam();
  // A generous timeout: on a loaded 2-core machine 4 threads can be descheduled.
  EXPECT_NO_THROW(run_thread_ranks(
      n, short_timeout(60s), [](Communicator& comm) { checks::all(comm, std::size_t(1) << 20); }));
}

INSTANTIATE_TEST_SUITE_P(WorldSizes, CommThreads, ::testing::Values(1, 2, 3, 4));

// The thread backend sums rank 0, 1, ..., N-1 in that order for every element:
// random (inexact) floats give bitwise the sequential sum, on every rank.
TEST(CommThreadsDeterminism, SumIsSequentialInRankOrder) {
  const int n = 4;
  const std::size_t count = 100003;
  auto value = [](int r, std::size_t i) {
    Rng rng = Rng::stream(42, std::uint64_t(r) * 1000003u + i);
    return rng.normal() * 1e3f;
  };
  std::vector<float> want(count);
  for (std::size_t i = 0; i < count; ++i) {
    float acc = value(0, i);
    for (int r = 1; r < n; ++r) acc += value(r, i);
    want[i] = acc;
  }
  std::atomic<int> mismatches{0};
  run_thread_ranks(n, short_timeout(60s), [&](Communicator& comm) {
    std::vector<float> x(count);
    for (std::size_t i = 0; i < count; ++i) x[i] = value(comm.rank(), i);
    comm.all_reduce(std::span(x));
    for (std::size_t i = 0; i < count; ++i)
      if (std::memcmp(&x[i], &want[i], sizeof(float)) != 0) ++mismatches;
  });
  EXPECT_EQ(mismatches.load(), 0);
}

// Rank 2 stalls past the timeout before a collective: ranks 0 and 1 throw a
// timeout naming rank 2 within the timeout (plus scheduling slack).
TEST(CommThreadsFaults, StalledRankTimesOutNamingIt) {
  std::atomic<double> waited{0};
  try {
    run_thread_ranks(3, short_timeout(1000ms), [&](Communicator& comm) {
      std::vector<float> x(10, 1.f);
      comm.all_reduce(std::span(x), ReduceOp::kSum, "step 1");
      if (comm.rank() == 2) std::this_thread::sleep_for(1500ms);
      Stopwatch watch;
      try {
        comm.all_reduce(std::span(x), ReduceOp::kSum, "step 2");
      } catch (const Error&) {
        if (comm.rank() == 0) waited = watch.seconds();
        throw;
      }
    });
    FAIL() << "expected a timeout";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kTimeout) << e.what();
    const std::string msg = e.what();
    EXPECT_NE(msg.find("all_reduce #1 (step 2) timed out"), std::string::npos) << msg;
    EXPECT_NE(msg.find("rank 2 has not arrived"), std::string::npos) << msg;
    EXPECT_NE(msg.find("all_reduce #0 (step 1)"), std::string::npos) << msg;  // rank 2's last op
  }
  EXPECT_GE(waited.load(), 0.9);
  EXPECT_LT(waited.load(), 1.4);
}

TEST(CommThreadsFaults, StalledPeerInRecvTimesOut) {
  try {
    run_thread_ranks(2, short_timeout(300ms), [&](Communicator& comm) {
      std::vector<float> x(4);
      if (comm.rank() == 0)
        comm.recv(std::span(x), 1, 9, "activations mb 0");
      else
        std::this_thread::sleep_for(600ms);
    });
    FAIL() << "expected a timeout";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kTimeout);
    EXPECT_NE(std::string(e.what()).find("recv from rank 1 tag 9 #0 (activations mb 0) timed out"),
              std::string::npos)
        << e.what();
  }
}

// A rank that throws stops the others at once (no timeout wait), and the launcher
// reports the root cause, not the consequences.
TEST(CommThreadsFaults, ThrowingRankStopsPeers) {
  Stopwatch watch;
  try {
    run_thread_ranks(4, short_timeout(30s), [&](Communicator& comm) {
      std::vector<float> x(1000, 1.f);
      comm.all_reduce(std::span(x));
      if (comm.rank() == 1) throw input_error("corrupt shard on rank 1");
      comm.all_reduce(std::span(x));
    });
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_EQ(std::string(e.what()), "rank 1: corrupt shard on rank 1");
  }
  EXPECT_LT(watch.seconds(), 10.0);
}

TEST(CommThreadsFaults, RankThatLeavesEarlyIsNamed) {
  try {
    run_thread_ranks(3, short_timeout(30s), [&](Communicator& comm) {
      if (comm.rank() == 2) return;  // skips the collective and finishes
      std::vector<float> x(10, 1.f);
      comm.all_reduce(std::span(x), ReduceOp::kSum, "step 7");
    });
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kComm);
    EXPECT_NE(std::string(e.what()).find("rank 2 finished without joining it"), std::string::npos)
        << e.what();
  }
}

TEST(CommThreadsFaults, MismatchedCollectivesAreReported) {
  try {
    run_thread_ranks(2, short_timeout(30s), [&](Communicator& comm) {
      std::vector<float> x(comm.rank() == 0 ? 5 : 6, 1.f);
      comm.all_reduce(std::span(x));
    });
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("collective mismatch at #0"), std::string::npos)
        << e.what();
  }
}

TEST(CommThreadsFaults, RecvSizeMismatchIsReported) {
  try {
    run_thread_ranks(2, short_timeout(30s), [&](Communicator& comm) {
      std::vector<float> x(comm.rank() == 0 ? 5 : 6, 1.f);
      if (comm.rank() == 0)
        comm.send(std::span<const float>(x), 1, 0);
      else
        comm.recv(std::span(x), 0, 0);
    });
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("message size mismatch: send of 5 f32, receive of 6 f32"),
              std::string::npos)
        << e.what();
  }
}

// A sub-communicator's timeout names both its own rank and the world rank.
TEST(CommThreadsFaults, SplitTimeoutNamesWorldRank) {
  try {
    run_thread_ranks(4, short_timeout(500ms), [&](Communicator& comm) {
      auto sub = comm.split(comm.rank() % 2, comm.rank());
      std::vector<float> x(3, 1.f);
      if (comm.rank() == 3)
        std::this_thread::sleep_for(900ms);
      else
        sub->all_reduce(std::span(x), ReduceOp::kSum, "tp");
    });
    FAIL() << "expected a timeout";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("rank 1 (world rank 3) has not arrived"),
              std::string::npos)
        << e.what();
  }
}

TEST(CommLaunch, ParsesRanksAsAndRunsThreads) {
  EXPECT_EQ(parse_ranks_as("threads"), RanksAs::kThreads);
  EXPECT_EQ(parse_ranks_as("mpi"), RanksAs::kMpi);
  EXPECT_THROW(parse_ranks_as("gpus"), Error);
  std::atomic<int> sum{0};
  run_ranks(RanksAs::kThreads, 3, {}, [&](Communicator& comm) {
    std::vector<std::int64_t> v{comm.rank() + 1};
    comm.all_reduce(std::span(v));
    sum += static_cast<int>(v[0]);
  });
  EXPECT_EQ(sum.load(), 3 * 6);
}

}  // namespace
}  // namespace weft::comm
