// Scenario 2, CPU-bound scaling: a fixed LCG job (items x steps) split evenly over
// n workers; every run's summed checksum is checked against the closed form.
#include <cstring>

#include "core/error.hpp"
#include "sys/parallel_bench/kernels.hpp"
#include "sys/parallel_bench/scenarios.hpp"
#include "sys/parallel_bench/stats.hpp"
#include "sys/parallel_bench/sync.hpp"
#include "sys/parallel_bench/workers.hpp"

namespace weft::sys::pbench {
namespace {

constexpr uint32_t kSteps = 64;
struct alignas(64) PartialSum {  // one cache line per worker: no false sharing
  uint64_t value;
};

// Items for which one worker needs about `target_s` seconds on this machine.
uint64_t calibrate_items(double target_s) {
  constexpr uint64_t kProbe = 1u << 15;
  double best = 1e9;
  for (int i = 0; i < 3; ++i) {
    const double t0 = now_s();
    volatile uint64_t sink = lcg_kernel(0, kProbe, kSteps);
    (void)sink;
    best = std::min(best, now_s() - t0);
  }
  const double per_item = std::max(best, 1e-6) / static_cast<double>(kProbe);
  const auto items = static_cast<uint64_t>(target_s / per_item);
  return std::max<uint64_t>(items / 1024 * 1024, 1024);
}

// One timed run of the whole job on n workers; checks the checksum.
double run_job(WorkerKind kind, int n, uint64_t items, uint64_t expected) {
  SharedRegion partials(sizeof(PartialSum) * static_cast<std::size_t>(n));
  auto* sums = partials.as<PartialSum>();
  const double t0 = now_s();
  const auto outcomes = run_workers(kind, n, [&](int i) {
    const uint64_t begin = items * static_cast<uint64_t>(i) / static_cast<uint64_t>(n);
    const uint64_t end = items * static_cast<uint64_t>(i + 1) / static_cast<uint64_t>(n);
    sums[i].value = lcg_kernel(begin, end, kSteps);
    return 0;
  });
  const double seconds = now_s() - t0;
  require_all_ok(outcomes, "CPU-bound scenario");
  uint64_t total = 0;
  for (int i = 0; i < n; ++i) total += sums[i].value;
  if (total != expected)
    throw Error(ErrorKind::kRuntime, str("CPU-bound scenario: ", n, " ", worker_kind_name(kind),
                                         " summed to ", total, ", closed form says ", expected));
  return seconds;
}

}  // namespace

CpuResult run_cpu_scaling(const Options& options) {
  CpuResult result;
  result.steps = kSteps;
  result.items = calibrate_items(options.cpu_target_s);
  result.checksum = lcg_kernel_closed_form(0, result.items, kSteps);
  result.repeats = options.cpu_repeats;
  double base[2] = {0, 0};
  for (int n : worker_counts(options.max_workers)) {
    std::vector<double> times[2];
    for (int r = 0; r < options.cpu_repeats; ++r) {
      for (int k = 0; k < 2; ++k) {
        const WorkerKind kind = k == 0 ? WorkerKind::kThread : WorkerKind::kProcess;
        times[k].push_back(run_job(kind, n, result.items, result.checksum));
      }
    }
    CpuRow row;
    row.workers = n;
    ScalingCell* cells[2] = {&row.threads, &row.processes};
    for (int k = 0; k < 2; ++k) {
      cells[k]->seconds = median(times[k]);
      if (n == 1) base[k] = cells[k]->seconds;
      cells[k]->speedup = base[k] > 0 ? base[k] / cells[k]->seconds : 0;
      cells[k]->efficiency = cells[k]->speedup / n;
    }
    result.rows.push_back(row);
  }
  return result;
}

}  // namespace weft::sys::pbench
