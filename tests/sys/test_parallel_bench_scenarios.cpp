// The scenarios of `weft bench parallel` on tiny sizes: each checks its result
// for real (a corrupted byte is caught), crash isolation ends the way the OS says
// it must, and the report's JSON has its stable keys.
#include <gtest/gtest.h>

#include <signal.h>

#include <set>

#include "core/error.hpp"
#include "sys/parallel_bench/kernels.hpp"
#include "sys/parallel_bench/parallel_bench.hpp"
#include "sys/parallel_bench/scenarios.hpp"

namespace weft::sys::pbench {
namespace {

Options tiny_options() {
  Options o = make_options(2, /*quick=*/true);
  o.startup_repeats = 3;
  o.cpu_target_s = 0.01;
  o.cpu_repeats = 1;
  o.triad_array_bytes = 1u << 20;
  o.triad_repeats = 2;
  o.share_bytes = (1u << 20) + 4096 + 8;  // not a whole number of 1 MiB chunks
  o.share_repeats = 2;
  o.pingpong_sizes = {8, 4096};
  o.pingpong_budget_s = 0.002;
  o.crash_work_s = 0.02;
  o.peer_timeout_s = 20;
  return o;
}

TEST(ParallelBenchScenarios, CpuScalingChecksumIsTheClosedForm) {
  const CpuResult r = run_cpu_scaling(tiny_options());
  EXPECT_EQ(r.checksum, lcg_kernel_closed_form(0, r.items, r.steps));
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_DOUBLE_EQ(r.rows[0].threads.speedup, 1.0);
  EXPECT_DOUBLE_EQ(r.rows[0].processes.speedup, 1.0);
  EXPECT_GT(r.rows[1].processes.seconds, 0);
}

TEST(ParallelBenchScenarios, MemoryTriadRunsForEachCount) {
  const MemoryResult r = run_memory_scaling(tiny_options());
  EXPECT_EQ(r.array_bytes, 1u << 20);
  ASSERT_EQ(r.rows.size(), 2u);
  for (const auto& row : r.rows) {
    EXPECT_GT(row.thread_gbps, 0);
    EXPECT_GT(row.process_gbps, 0);
  }
}

TEST(ParallelBenchScenarios, SharedBytesArriveIntact) {
  const SharingResult r = run_sharing(tiny_options());
  ASSERT_EQ(r.rows.size(), 3u);
  std::set<std::string> keys;
  for (const auto& row : r.rows) {
    SCOPED_TRACE(row.transport);
    keys.insert(row.transport);
    EXPECT_TRUE(row.available) << row.note;
    EXPECT_TRUE(row.verified);
    EXPECT_GT(row.gbps, 0);
  }
  EXPECT_EQ(keys, (std::set<std::string>{"thread_memcpy", "process_pipe", "process_shm"}));
}

TEST(ParallelBenchScenarios, CorruptedByteIsCaughtOnEveryTransport) {
  Options o = tiny_options();
  o.test_corrupt_sharing = true;
  o.share_repeats = 1;
  for (const char* t : {"thread_memcpy", "process_pipe", "process_shm"}) {
    SCOPED_TRACE(t);
    EXPECT_THROW(run_sharing_transport(t, o), weft::Error);
    EXPECT_TRUE(run_sharing_transport(t, tiny_options()).verified);  // and intact data passes
  }
}

TEST(ParallelBenchScenarios, ThreadPoolCrashKillsTheWholeChild) {
  const ThreadPoolCrash c = run_thread_pool_crash(3, tiny_options());
  EXPECT_TRUE(c.child_signaled);
  EXPECT_EQ(c.child_signal, SIGSEGV);
  EXPECT_FALSE(c.results_delivered);
  EXPECT_LE(c.others_finished, 2);
}

TEST(ParallelBenchScenarios, ProcessPoolLosesOnlyTheCrashedWorker) {
  const ProcessPoolCrash c = run_process_pool_crash(3, tiny_options());
  ASSERT_EQ(c.outcomes.size(), 3u);
  EXPECT_EQ(c.killed_by_sigsegv, 1);
  EXPECT_EQ(c.completed_ok, 2);
  for (const auto& w : c.outcomes) {
    if (w.index == c.crashing_worker) {
      EXPECT_TRUE(w.signaled);
      EXPECT_EQ(w.signal, SIGSEGV);
      EXPECT_FALSE(w.result_ok);
    } else {
      EXPECT_FALSE(w.signaled);
      EXPECT_EQ(w.exit_code, 0);
      EXPECT_TRUE(w.result_ok);
    }
  }
}

TEST(ParallelBenchScenarios, WholeRunJsonHasStableKeys) {
  const RunResult run = run_parallel_bench(tiny_options());
  ASSERT_FALSE(run.mpi_rank_only);
  const nlohmann::json j = report_to_json(run.report);
  EXPECT_EQ(j.at("schema"), "weft.bench.parallel/1");
  for (const char* key : {"machine", "options", "wall_s", "scenario_seconds", "startup", "cpu", "memory",
                          "sharing", "latency", "crash", "recommendation"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["startup"]["rows"].size(), 2u);
  EXPECT_TRUE(j["startup"]["rows"][0].contains("process_us"));
  EXPECT_TRUE(j["cpu"]["rows"][1]["processes"].contains("efficiency"));
  EXPECT_TRUE(j["memory"]["rows"][0].contains("thread_gbps"));
  EXPECT_EQ(j["sharing"]["rows"].size(), 4u);  // three local transports + MPI (skipped here)
  EXPECT_EQ(j["sharing"]["rows"][3]["transport"], "process_mpi");
  EXPECT_EQ(j["latency"]["rows"].size(), 7u);
  EXPECT_EQ(j["crash"]["process_pool"]["killed_by_sigsegv"], 1);
  EXPECT_EQ(j["crash"]["thread_pool"]["child_signal"], SIGSEGV);
  std::set<std::string> topics;
  for (const auto& rec : j["recommendation"]) topics.insert(rec.at("topic").get<std::string>());
  EXPECT_EQ(topics, (std::set<std::string>{"startup", "cpu", "memory", "sharing", "latency", "crash", "verdict"}));
  EXPECT_EQ(j["recommendation"].back()["choice"], "both");
}

}  // namespace
}  // namespace weft::sys::pbench
