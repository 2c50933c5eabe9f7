// `weft bench parallel`: measures, on this machine, when threads and when processes
// are the better way to run parallel work (start-up, CPU and memory scaling, data
// sharing, message latency, crash isolation), then recommends with the numbers.
// Call from the main thread before it starts other threads: scenarios fork.
// Returns plain values; the caller owns them.
#pragma once

#include <cstdio>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "sys/parallel_bench/report.hpp"

namespace weft::sys::pbench {

// Runs every scenario. `progress` (may be empty) hears one line per scenario as it
// starts. Under mpirun, ranks other than 0 only take part in the MPI measurements
// and return a report with mpi_rank_only = true (print nothing for them).
struct RunResult {
  Report report;
  bool mpi_rank_only = false;
};
RunResult run_parallel_bench(const Options& options,
                             const std::function<void(const std::string&)>& progress = {});

// The recommendation lines, each backed by numbers from `report`.
std::vector<Recommendation> recommend(const Report& report);

// A table per scenario, then the recommendation.
void print_report(const Report& report, std::FILE* out);
// The same content with stable keys (schema "weft.bench.parallel/1", see docs/bench_parallel.md).
nlohmann::json report_to_json(const Report& report);

}  // namespace weft::sys::pbench
