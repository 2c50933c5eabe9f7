// Layout enumeration (see search.hpp).
#include "plan/search.hpp"

#include <algorithm>

namespace weft::plan {

SearchResult plan_search(const RunSpec& base, const SearchOptions& options) {
  SearchResult result;
  const int n = base.cluster.gpus;
  const ModelSpec& m = base.model;
  for (int tp = 1; tp <= std::min(n, base.cluster.gpus_per_node); ++tp) {
    if (n % tp != 0 || m.heads % tp != 0) continue;
    for (int pp = 1; pp <= n / tp; ++pp) {
      if ((n / tp) % pp != 0 || m.layers % pp != 0) continue;
      const int dp = n / (tp * pp);
      for (int64_t b : options.micro_batches) {
        if (base.layout.global_batch % (static_cast<int64_t>(dp) * b) != 0) continue;
        for (int zero : options.zero_stages) {
          if (pp > 1 && zero > 1) continue;
          if (dp == 1 && zero > 0) continue;  // nothing to shard over
          for (Recompute r : options.recomputes) {
            RunSpec run = base;
            run.layout.dp = dp;
            run.layout.tp = tp;
            run.layout.pp = pp;
            run.layout.micro_batch = b;
            run.layout.zero = zero;
            run.layout.recompute = r;
            // An interleaved base keeps its v; layouts it cannot run are not counted.
            if (!layout_interleave_problem(m, run.layout).empty()) continue;
            ++result.considered;
            Candidate c{run.layout, memory_estimate(run), {}};
            if (!c.memory.fits) continue;
            c.time = time_estimate(run);
            result.fitting.push_back(std::move(c));
          }
        }
      }
    }
  }
  std::stable_sort(result.fitting.begin(), result.fitting.end(),
                   [](const Candidate& a, const Candidate& b) { return a.time.step < b.time.step; });
  return result;
}

}  // namespace weft::plan
