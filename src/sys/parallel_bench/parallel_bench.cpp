// Runs the scenarios of `weft bench parallel` in order, see parallel_bench.hpp.
// MPI first (then MPI is finalised, so the fork()-based scenarios that follow run
// in a process without MPI state), then the local scenarios on rank 0 only.
#include "sys/parallel_bench/parallel_bench.hpp"

#include <cstdlib>
#include <cstring>

#include "core/error.hpp"
#include "sys/parallel_bench/scenarios.hpp"
#include "sys/parallel_bench/sync.hpp"

#include <sys/resource.h>
#include <unistd.h>

namespace weft::sys::pbench {
namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != 0 ? std::atoi(v) : fallback;
}

// User + system CPU seconds of this process and of the children it has waited for.
double cpu_seconds() {
  double total = 0;
  for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
    rusage u{};
    getrusage(who, &u);
    total += static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
             1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  }
  return total;
}

[[maybe_unused]] int launcher_rank() {
  return env_int("OMPI_COMM_WORLD_RANK", env_int("PMI_RANK", env_int("PMIX_RANK", 0)));
}

TransferRow mpi_transfer_unavailable(const std::string& why) {
  TransferRow row;
  row.transport = "process_mpi";
  row.between = "processes";
  row.available = false;
  row.note = why;
  return row;
}

PingPongRow mpi_pingpong_unavailable(const std::string& why) {
  PingPongRow row;
  row.transport = "process_mpi";
  row.between = "processes";
  row.available = false;
  row.note = why;
  return row;
}

}  // namespace

bool launched_under_mpi(int* world_size) {
  *world_size = env_int("OMPI_COMM_WORLD_SIZE", env_int("PMI_SIZE", 0));
  return *world_size > 0 || std::getenv("PMIX_RANK") != nullptr;
}

RunResult run_parallel_bench(const Options& options,
                             const std::function<void(const std::string&)>& progress) {
  if (options.max_workers < 1)
    throw input_error(str("--workers must be at least 1, got ", options.max_workers));
  auto say = [&](const std::string& line) {
    if (progress) progress(line);
  };
  RunResult run;
  Report& report = run.report;
  report.options = options;
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  report.logical_cpus = cpus > 0 ? static_cast<int>(cpus) : 1;
  const double start = now_s();
  const double cpu_start = cpu_seconds();
  double phase_start = start;

  int world = 0;
  const bool under_mpi = launched_under_mpi(&world);
  TransferRow mpi_transfer;
  PingPongRow mpi_pingpong;
  if (!under_mpi) {
    const std::string why = "not run under mpirun (try: mpirun -np 2 weft bench parallel)";
    mpi_transfer = mpi_transfer_unavailable(why);
    mpi_pingpong = mpi_pingpong_unavailable(why);
  } else {
#ifdef WEFT_HAVE_MPI  // the one place that knows whether MPI code was built
    say("[mpi] rank 0 <-> rank 1 transfer and ping-pong");
    MpiResult mpi = run_mpi_scenarios(options);
    if (!mpi.root) {
      run.mpi_rank_only = true;
      return run;
    }
    mpi_transfer = mpi.transfer;
    mpi_pingpong = mpi.pingpong;
    report.mpi_launched = mpi.transfer.available;
#else
    if (launcher_rank() != 0) {
      run.mpi_rank_only = true;
      return run;
    }
    mpi_transfer = mpi_transfer_unavailable("weft was built without MPI");
    mpi_pingpong = mpi_pingpong_unavailable("weft was built without MPI");
#endif
  }

  auto phase_done = [&](const char* key) {
    const double t = now_s();
    report.scenario_seconds.emplace_back(key, t - phase_start);
    phase_start = t;
  };
  if (under_mpi) phase_done("mpi");
  say("[1/6] start-up cost");
  report.startup = run_startup(options);
  phase_done("startup");
  say("[2/6] CPU-bound scaling");
  report.cpu = run_cpu_scaling(options);
  phase_done("cpu");
  say("[3/6] memory-bandwidth scaling");
  report.memory = run_memory_scaling(options);
  phase_done("memory");
  say("[4/6] sharing a buffer");
  report.sharing = run_sharing(options);
  report.sharing.rows.push_back(mpi_transfer);
  phase_done("sharing");
  say("[5/6] message latency and bandwidth");
  report.latency = run_latency(options);
  report.latency.rows.push_back(mpi_pingpong);
  phase_done("latency");
  say("[6/6] crash isolation");
  const int pool = std::max(2, options.max_workers);
  report.crash.thread_pool = run_thread_pool_crash(pool, options);
  report.crash.process_pool = run_process_pool_crash(pool, options);
  phase_done("crash");
  report.recommendations = recommend(report);
  report.wall_s = now_s() - start;
  report.cpu_time_s = cpu_seconds() - cpu_start;
  return run;
}

}  // namespace weft::sys::pbench
