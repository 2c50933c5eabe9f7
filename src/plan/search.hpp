// `weft plan --search`: every layout of a cluster that fits in memory, ranked by step
// time. Pure; any thread. Returns values the caller owns.
#pragma once

#include <vector>

#include "plan/memory_model.hpp"
#include "plan/time_model.hpp"

namespace weft::plan {

struct SearchOptions {
  std::vector<int64_t> micro_batches = {1, 2, 4, 8};
  std::vector<int> zero_stages = {0, 1, 2, 3};
  std::vector<Recompute> recomputes = {Recompute::kNone, Recompute::kSelective, Recompute::kFull};
};

struct Candidate {
  Layout layout;
  MemoryReport memory;
  TimeReport time;
};

struct SearchResult {
  std::vector<Candidate> fitting;  // sorted by step time, fastest first
  int64_t considered = 0;          // layouts that satisfied the divisibility rules
};

// Enumerates dp·tp·pp = GPUs with tp ≤ GPUs per node and tp | heads, pp | layers,
// micro-batch b with dp·b | global batch, ZeRO stages (≤ 1 when pp > 1, as Megatron's
// distributed optimizer; DeepSpeed forbids ZeRO-2/3 with its pipeline engine), recompute
// choices. `base` supplies model, cluster, tokens, MFU, global batch, precision, schedule.
SearchResult plan_search(const RunSpec& base, const SearchOptions& options = {});

}  // namespace weft::plan
