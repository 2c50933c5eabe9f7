// The six scenarios of `weft bench parallel`, one per source file (scenario_*.cpp).
// Each checks its result first (and throws weft::Error when it is wrong), then times
// it and returns medians. Call from the main thread of a process that has not
// started other threads (the process variants fork).
#pragma once

#include <string>

#include "sys/parallel_bench/report.hpp"

namespace weft::sys::pbench {

StartupResult run_startup(const Options& options);
CpuResult run_cpu_scaling(const Options& options);
MemoryResult run_memory_scaling(const Options& options);
// Local transports only; the MPI row comes from run_mpi_scenarios.
SharingResult run_sharing(const Options& options);
// One local transport of the sharing scenario: "thread_memcpy", "process_pipe" or "process_shm".
TransferRow run_sharing_transport(const std::string& transport, const Options& options);
// Local transports only; the MPI row comes from run_mpi_scenarios.
LatencyResult run_latency(const Options& options);

// A pool of `workers` threads inside a forked child; one thread faults.
ThreadPoolCrash run_thread_pool_crash(int workers, const Options& options);
// A pool of `workers` forked processes; one of them faults.
ProcessPoolCrash run_process_pool_crash(int workers, const Options& options);
// Writes to a PROT_NONE page with the default SIGSEGV action restored, so the
// kernel kills the process with SIGSEGV (also under ASan). Never returns.
[[noreturn]] void crash_with_sigsegv();

// True when this process was started by an MPI launcher (mpirun/srun); sets
// *world_size from the launcher's environment.
bool launched_under_mpi(int* world_size);

// Defined in scenario_mpi_mpi.cpp, built only when WEFT_HAVE_MPI.
struct MpiResult {
  bool root = true;  // false on ranks other than 0: they print nothing
  TransferRow transfer;
  PingPongRow pingpong;
};
// Initialises MPI when needed, measures rank 0 <-> rank 1 transfer and ping-pong,
// and finalises MPI again (so this process may fork afterwards).
MpiResult run_mpi_scenarios(const Options& options);

}  // namespace weft::sys::pbench
