// Thread count of the kernels: one OpenMP pool shared by weft's loops and OpenBLAS
// (OpenMP build). Call from the main thread, outside any parallel region.
#pragma once

namespace weft::cpu {

// Sets the OpenMP thread count and OpenBLAS's to n (n >= 1).
void set_num_threads(int n);

// Threads a kernel called now will use (omp_get_max_threads()).
int num_threads();

}  // namespace weft::cpu
