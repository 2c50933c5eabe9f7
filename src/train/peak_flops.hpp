// The machine's measured sgemm peak (the denominator of MFU): times n×n×n float
// matmuls through the same kernel the model uses, with the current thread count.
// Main thread only; allocates its matrices for the call.
#pragma once

namespace weft::train {

// Median GFLOP/s (2n³ per matmul) over `reps` timed runs after one warm-up.
double measure_sgemm_gflops(int n = 2048, int reps = 5);

}  // namespace weft::train
