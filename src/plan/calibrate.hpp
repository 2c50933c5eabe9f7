// `weft plan --calibrate`: measures this machine's rates the planner needs — sgemm
// FLOP/s (OpenBLAS), memory copy bandwidth, and α–β of a shared-memory message between
// two local ranks (threads of one process standing in for processes on one node). The
// result is the interface through which weft's own step time will be predicted once the
// training engine lands (calibrate_cluster turns it into a ClusterSpec). Main thread only:
// it starts its own helper thread and uses every BLAS thread.
#pragma once

#include <cstdint>

#include "plan/hardware.hpp"

namespace weft::plan {

struct MeasuredRates {
  int gemm_n = 0;             // square sgemm size measured
  int threads = 0;            // BLAS / OpenMP threads used
  double gemm_flops = 0;      // median sgemm FLOP/s (fp32)
  double gemm_max_error = 0;  // max |C − C_ref| of the checked product (must be ~1e-4)
  double mem_bandwidth = 0;   // memcpy bytes/s counting read + write
  double local_alpha = 0;     // s: one small message between two local ranks (one way)
  double local_beta = 0;      // bytes/s: large message between two local ranks
};

struct CalibrateOptions {
  int gemm_n = 1024;
  int repeats = 5;                      // medians over this many runs
  int64_t copy_bytes = 64ll << 20;      // memory bandwidth buffer
  int64_t message_bytes = 16ll << 20;   // large message for β
};

// Runs the micro-benchmarks (about a second on a laptop). Checks the sgemm result
// against a plain loop first and throws a runtime error if it is wrong.
MeasuredRates calibrate_measure(const CalibrateOptions& options);

// A one-"GPU"-per-rank cluster of `ranks` local ranks built from measured rates: each
// rank gets 1/ranks of the measured sgemm rate, memory bandwidth and `memory_bytes`;
// links = measured α–β. Use with Layout::mixed = false and MFU = 1 (the rate is measured).
ClusterSpec calibrate_cluster(const MeasuredRates& rates, int ranks, double memory_bytes);

}  // namespace weft::plan
