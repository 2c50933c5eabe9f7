// All-reduce latency and bandwidth per message size on any Communicator, for
// `bench/bench_comm`, later `weft bench comm` and `weft plan --calibrate`.
// Collective: every rank of `comm` calls it with the same arguments; every rank
// gets the same rows (rank 0's timings, broadcast). Caller owns the result.
#pragma once

#include <cstddef>
#include <vector>

#include "parallel/comm/communicator.hpp"

namespace weft::comm {

struct CommBenchRow {
  std::size_t bytes = 0;  // message size per rank (float32 elements × 4)
  int reps = 0;           // timed repetitions
  double median_us = 0;   // median time of one all_reduce, measured on rank 0
  double algbw_gbps = 0;  // bytes / time
  double busbw_gbps =
      0;  // algbw × 2(n−1)/n: the bytes each rank's link must move (NCCL's convention)
  double memcpy_gbps = 0;  // baseline: one memcpy of the same size on rank 0, same run
};

// Sizes 4 B, 16 B, ... up to max_bytes (×4 each step). Each size first checks the
// all-reduce result against the closed form (throws weft::Error on a mismatch),
// then times repetitions for about `seconds_per_size`.
std::vector<CommBenchRow> bench_all_reduce(Communicator& comm, std::size_t max_bytes,
                                           double seconds_per_size);

// Latency α (µs, from the smallest message) and bus bandwidth β (GB/s, from the
// largest) of the model t(bytes) = α + 2(n−1)/n · bytes / β, for the planner.
struct CommFit {
  double alpha_us = 0;
  double busbw_gbps = 0;
};
CommFit fit_all_reduce(const std::vector<CommBenchRow>& rows);

}  // namespace weft::comm
