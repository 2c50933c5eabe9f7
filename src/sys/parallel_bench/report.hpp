// Options and results of `weft bench parallel` (threads or processes?): one plain
// struct per scenario, filled by the scenario functions (scenarios.hpp), printed by
// print_report / report_to_json (parallel_bench.hpp). Value types; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace weft::sys::pbench {

struct Options {
  int max_workers = 2;  // N: scaling runs use 1..N workers (see worker_counts)
  bool quick = false;   // smaller sizes and fewer repeats (<10 s on 2 cores)
  // Sizes and repeats; make_options() derives them from `quick`, tests shrink them.
  int startup_repeats = 100;
  double cpu_target_s = 0.4;   // one worker's time for the whole CPU-bound job
  int cpu_repeats = 3;
  std::size_t triad_array_bytes = 0;  // each of a, b, c; 0 = derive from L3
  int triad_repeats = 7;
  std::size_t share_bytes = 64u << 20;
  int share_repeats = 7;
  std::vector<std::size_t> pingpong_sizes = {8, 4096, 65536, 1u << 20};
  double pingpong_budget_s = 0.2;  // per transport and size
  double crash_work_s = 0.1;       // how long the surviving workers compute
  double peer_timeout_s = 60.0;    // a worker waiting longer on a peer gives up
  bool test_corrupt_sharing = false;  // tests only: the producer flips one byte after filling
};

// Defaults for this machine: N = logical CPUs (at least 2); quick or full sizes.
Options make_options(int max_workers, bool quick);
// Worker counts to scan: 1..N when N <= 8, else 1, 2, 4, ... and N.
std::vector<int> worker_counts(int max_workers);

// ---- 1. start-up -------------------------------------------------------------
struct StartupRow {
  int workers = 0;
  double thread_us = 0;   // median spawn + join of `workers` empty threads
  double process_us = 0;  // median fork + waitpid of `workers` empty children
};
struct StartupResult {
  int repeats = 0;
  std::size_t parent_rss_bytes = 0;  // fork copies the page tables of this much memory
  std::vector<StartupRow> rows;
};

// ---- 2. CPU-bound scaling ---------------------------------------------------
struct ScalingCell {
  double seconds = 0;     // median wall time of the whole job
  double speedup = 0;     // vs 1 worker of the same kind
  double efficiency = 0;  // speedup / workers
};
struct CpuRow {
  int workers = 0;
  ScalingCell threads, processes;
};
struct CpuResult {
  uint64_t items = 0;
  uint32_t steps = 0;
  uint64_t checksum = 0;  // the closed-form sum every run was checked against
  int repeats = 0;
  std::vector<CpuRow> rows;
};

// ---- 3. memory-bandwidth scaling ---------------------------------------------
struct MemoryRow {
  int workers = 0;
  double thread_gbps = 0;  // median triad bandwidth, 24 bytes per element
  double process_gbps = 0;
};
struct MemoryResult {
  std::size_t array_bytes = 0;  // each of a, b, c
  std::size_t l3_bytes = 0;     // as the C library reports it; 0 = unknown
  int repeats = 0;
  std::vector<MemoryRow> rows;
};

// ---- 4. sharing a buffer -----------------------------------------------------
struct TransferRow {
  std::string transport;  // stable key: thread_memcpy, process_pipe, process_shm, process_mpi
  std::string between;    // "threads" / "processes"
  bool available = true;
  std::string note;       // why unavailable, or a detail (pipe size)
  double gbps = 0;        // median
  double ms = 0;          // median time to move the whole buffer
  bool verified = false;  // every repeat's bytes matched the source
};
struct SharingResult {
  std::size_t bytes = 0;
  int repeats = 0;
  std::vector<TransferRow> rows;
};

// ---- 5. message latency and bandwidth ----------------------------------------
struct PingPongPoint {
  std::size_t bytes = 0;
  double one_way_us = 0;  // median round trip / 2
  double gbps = 0;        // bytes / one_way time
  uint64_t round_trips = 0;
};
struct PingPongRow {
  std::string transport;  // stable key: thread_spin, thread_futex, thread_condvar,
                          // process_spin, process_futex, process_pipe, process_mpi
  std::string between;
  bool available = true;
  std::string note;
  bool verified = false;  // payloads checked in both directions before timing
  std::vector<PingPongPoint> points;
};
struct LatencyResult {
  std::vector<PingPongRow> rows;
};

// ---- 6. crash isolation ------------------------------------------------------
struct ThreadPoolCrash {
  int workers = 0;
  int crashing_worker = 0;
  bool child_signaled = false;
  int child_signal = 0;
  int child_exit_code = 0;
  bool results_delivered = false;  // the pool's join completed and returned results
  int others_finished = 0;         // surviving-thread jobs done before the process died
};
struct ProcessWorkerCrash {
  int index = 0;
  bool signaled = false;
  int signal = 0;
  int exit_code = 0;
  bool result_ok = false;  // its checksum matched the closed form
};
struct ProcessPoolCrash {
  int workers = 0;
  int crashing_worker = 0;
  std::vector<ProcessWorkerCrash> outcomes;
  int killed_by_sigsegv = 0;
  int completed_ok = 0;
};
struct CrashResult {
  ThreadPoolCrash thread_pool;
  ProcessPoolCrash process_pool;
};

// ---- the whole run -----------------------------------------------------------
struct Recommendation {
  std::string topic;   // stable key: startup, cpu, memory, sharing, latency, crash, verdict
  std::string choice;  // threads / processes / both / either
  std::string text;    // one line with the numbers behind it
};

struct Report {
  Options options;
  int logical_cpus = 0;
  bool mpi_launched = false;  // run under mpirun with >= 2 ranks
  StartupResult startup;
  CpuResult cpu;
  MemoryResult memory;
  SharingResult sharing;
  LatencyResult latency;
  CrashResult crash;
  std::vector<Recommendation> recommendations;
  double wall_s = 0;
  double cpu_time_s = 0;  // user + system CPU of this process and its reaped children
  // Wall time of each scenario: startup, cpu, memory, sharing, latency, crash (and mpi).
  std::vector<std::pair<std::string, double>> scenario_seconds;
};

}  // namespace weft::sys::pbench
