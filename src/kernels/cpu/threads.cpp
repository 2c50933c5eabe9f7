// Thread count shared by OpenMP loops and OpenBLAS (see threads.hpp).
#include "kernels/cpu/threads.hpp"

#include <cblas.h>
#include <omp.h>

#include "core/error.hpp"

namespace weft::cpu {

void set_num_threads(int n) {
  WEFT_CHECK(n >= 1, "thread count ", n);
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace weft::cpu
