// `weft bench parallel`: threads or processes? Parses options, runs the library's
// measurement (sys/parallel_bench) and prints the tables or JSON.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "cli/bench_registry.hpp"
#include "core/error.hpp"
#include "sys/parallel_bench/parallel_bench.hpp"

namespace {

struct ParallelArgs {
  int workers = 0;
  bool workers_given = false;  // else: logical CPUs, at least 2
  bool quick = false;
  bool json = false;
};

int run_bench_parallel(const ParallelArgs& args) {
  namespace pb = weft::sys::pbench;
  int workers = args.workers;
  if (!args.workers_given) {
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    workers = std::max(2, static_cast<int>(cpus > 0 ? cpus : 1));
  }
  if (workers < 1 || workers > 1024)
    throw weft::input_error(weft::str("--workers: ", workers, " is out of range (1..1024)"));
  const pb::Options options = pb::make_options(workers, args.quick);
  const bool tty = isatty(STDERR_FILENO) != 0;
  auto progress = [tty](const std::string& line) {
    if (tty) std::fprintf(stderr, "%s\n", line.c_str());
  };
  std::fflush(stdout);  // nothing buffered may be duplicated by fork()
  const pb::RunResult run = pb::run_parallel_bench(options, progress);
  if (run.mpi_rank_only) return 0;  // ranks other than 0 only helped with MPI
  if (args.json) {
    std::printf("%s\n", pb::report_to_json(run.report).dump(2).c_str());
  } else {
    pb::print_report(run.report, stdout);
  }
  return 0;
}

std::function<int()> setup_bench_parallel(CLI::App& app) {
  auto args = std::make_shared<ParallelArgs>();
  CLI::Option* workers = app.add_option("--workers,-n", args->workers,
                 "Largest worker count N to scan (default: logical CPUs, at least 2)");
  app.add_flag("--quick", args->quick, "Smaller sizes, fewer repeats (under 10 s on 2 cores)");
  app.add_flag("--json", args->json, "Print the report as JSON (stable keys)");
  return [args, workers] {
    args->workers_given = workers->count() > 0;
    return run_bench_parallel(*args);
  };
}

WEFT_BENCH_COMMAND("parallel", "Threads or processes? Start-up, scaling, sharing, latency, crash isolation",
                   100, setup_bench_parallel);

}  // namespace
