// `weft plan --calibrate`: measures on this machine the rates local_step.hpp prices a
// weft run with — every sgemm shape the runs use (forward, both backward layouts, the
// logits, attention blocks), the effective bandwidth of weft's memory-bound kernels, and
// α–β of a shared-memory message between two local ranks. Each figure is the median of
// several short repeats; `concurrency` copies run at once, as the ranks do.
// Main thread only: it starts its own helper threads and sets the OpenMP/BLAS thread count
// (restored on return).
#pragma once

#include <cstdint>
#include <vector>

#include "plan/local_step.hpp"
#include "plan/rates.hpp"

namespace weft::plan {

struct CalibrateOptions {
  int repeats = 5;                     // medians over this many repeats (3 for slow shapes)
  double repeat_seconds = 0.01;        // each repeat runs a shape at least this long
  int64_t message_bytes = 16ll << 20;  // large message for β
  bool measure_link = true;            // measure comm.intra_host (else leave it out)
};

// Checks cblas_sgemm on a small odd-sized product against a plain loop in double; returns
// the max error (throws a runtime error when it is not ~1e-4).
double calibrate_gemm_check();

// Measures what `runs` need and `have` lacks (entries with the same key are not measured
// again) and returns only the new measurements (merge them with rates_merge).
Rates calibrate_measure(const std::vector<LocalRun>& runs, const Rates& have,
                        const CalibrateOptions& options);

// One-way α (8-byte message) and β (options.message_bytes) between two threads handing
// a buffer through shared memory.
LinkRate calibrate_link(const CalibrateOptions& options);

}  // namespace weft::plan
