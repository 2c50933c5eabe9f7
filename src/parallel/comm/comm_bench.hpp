// Collective latency and bandwidth per message size on any Communicator — all-reduce,
// all-gather, reduce-scatter and point-to-point send/recv — for bench/bench_comm and
// `weft bench comm` (parallel/comm_bench_suite.hpp), whose α–β fit feeds `weft plan`.
// Collective: every rank of `comm` calls it with the same arguments; every rank gets
// the same rows (rank 0's timings, broadcast). Caller owns the result.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "parallel/comm/communicator.hpp"

namespace weft::comm {

enum class CommBenchOp { kAllReduce, kAllGather, kReduceScatter, kSendRecv };
std::string_view comm_bench_op_name(CommBenchOp op);  // "all_reduce", ..., "send_recv"

struct CommBenchRow {
  CommBenchOp op = CommBenchOp::kAllReduce;
  int ranks = 0;          // members of the communicator
  std::size_t bytes = 0;  // M, the whole buffer: all_reduce's buffer, all_gather's
                          // output, reduce_scatter's input, one send_recv message
  int reps = 0;           // timed repetitions
  double median_us = 0;   // median time of one operation on rank 0 (send_recv: half a round trip)
  double cpu_us = 0;      // median CPU time of rank 0's thread per operation (less load-sensitive)
  double algbw_gbps = 0;  // M / time
  double busbw_gbps = 0;  // algbw × 2(n−1)/n (all_reduce), (n−1)/n (gather/scatter), 1 (p2p)
  double memcpy_gbps = 0;  // baseline: one memcpy of M bytes on rank 0, same run
};

// Sizes M = min_bytes, ×4, ... up to max_bytes (all_gather/reduce_scatter round M up
// to a multiple of 4·n). Each size first checks the result against a closed form
// (throws weft::Error on a mismatch), then times repetitions for about
// `seconds_per_size` (at least 3). send_recv: ranks 0 and 1 ping-pong, others idle
// (needs n >= 2).
std::vector<CommBenchRow> bench_collective(Communicator& comm, CommBenchOp op,
                                           std::size_t min_bytes, std::size_t max_bytes,
                                           double seconds_per_size);

// The all-reduce rows of bench/bench_comm (sizes 4 B .. max_bytes).
std::vector<CommBenchRow> bench_all_reduce(Communicator& comm, std::size_t max_bytes,
                                           double seconds_per_size);

// Ring-model coefficients of a row: t = a·α + b·β (Thakur et al. 2005, as
// plan/comm_model.hpp prices them): all_reduce a = 2(n−1), b = 2(n−1)/n·M;
// all_gather/reduce_scatter a = n−1, b = (n−1)/n·M; send_recv a = 1, b = M.
void comm_ring_coefficients(const CommBenchRow& row, double* a, double* b);

// α (s per message) and β (s per byte) fitted to rows by least squares on the
// relative error Σ((a·α + b·β − t)/t)², so small and large messages weigh alike;
// a negative coefficient is clamped to 0 and the other refitted.
struct CommFit {
  double alpha_s = 0;
  double beta_s_per_byte = 0;
  int points = 0;
  double rel_rms = 0;  // root mean square of (model − t)/t over the rows
};
CommFit fit_alpha_beta(const std::vector<CommBenchRow>& rows);

}  // namespace weft::comm
