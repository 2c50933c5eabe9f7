// Scenario 1, start-up cost: spawn + join of n empty threads vs fork + waitpid of
// n empty children, interleaved repeat by repeat so both see the same machine load.
#include <unistd.h>

#include <cstdio>

#include "sys/parallel_bench/scenarios.hpp"
#include "sys/parallel_bench/stats.hpp"
#include "sys/parallel_bench/sync.hpp"
#include "sys/parallel_bench/workers.hpp"

namespace weft::sys::pbench {
namespace {

std::size_t resident_bytes() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  const int got = std::fscanf(f, "%ld %ld", &pages, &resident);
  std::fclose(f);
  return got == 2 ? static_cast<std::size_t>(resident) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

double time_empty_workers_us(WorkerKind kind, int n) {
  const double t0 = now_s();
  const auto outcomes = run_workers(kind, n, [](int) { return 0; });
  const double us = (now_s() - t0) * 1e6;
  require_all_ok(outcomes, "start-up scenario");
  return us;
}

}  // namespace

StartupResult run_startup(const Options& options) {
  StartupResult result;
  result.repeats = options.startup_repeats;
  result.parent_rss_bytes = resident_bytes();
  for (int n : worker_counts(options.max_workers)) {
    time_empty_workers_us(WorkerKind::kThread, n);  // warm-up: first-use costs
    time_empty_workers_us(WorkerKind::kProcess, n);
    std::vector<double> thread_us, process_us;
    for (int r = 0; r < options.startup_repeats; ++r) {
      thread_us.push_back(time_empty_workers_us(WorkerKind::kThread, n));
      process_us.push_back(time_empty_workers_us(WorkerKind::kProcess, n));
    }
    result.rows.push_back({n, median(thread_us), median(process_us)});
  }
  return result;
}

}  // namespace weft::sys::pbench
