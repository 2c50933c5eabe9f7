// Default sizes of `weft bench parallel` and the worker counts it scans.
#include <algorithm>

#include "sys/parallel_bench/report.hpp"

namespace weft::sys::pbench {

Options make_options(int max_workers, bool quick) {
  Options o;
  o.max_workers = max_workers;
  o.quick = quick;
  if (quick) {
    o.startup_repeats = 20;
    o.cpu_target_s = 0.1;
    o.share_bytes = 16u << 20;
    o.cpu_repeats = 3;
    o.triad_repeats = 3;
    o.share_repeats = 3;
    o.pingpong_budget_s = 0.03;
    o.crash_work_s = 0.05;
  } else {
    o.startup_repeats = 200;
    o.cpu_target_s = 0.6;
    o.cpu_repeats = 3;
    o.triad_repeats = 7;
    o.share_repeats = 7;
    o.pingpong_budget_s = 0.25;
    o.crash_work_s = 0.2;
  }
  return o;
}

std::vector<int> worker_counts(int max_workers) {
  std::vector<int> counts;
  if (max_workers <= 8) {
    for (int n = 1; n <= max_workers; ++n) counts.push_back(n);
    return counts;
  }
  for (int n = 1; n < max_workers; n *= 2) counts.push_back(n);
  counts.push_back(max_workers);
  return counts;
}

}  // namespace weft::sys::pbench
