// NCCL's library version for `weft hw` (built only with NCCL). Any thread.
#include <nccl.h>

#include "core/error.hpp"
#include "sys/cuda_runtime_info.hpp"

namespace weft::sys {

std::string nccl_library_version() {
  int v = 0;
  if (ncclGetVersion(&v) != ncclSuccess) return "unavailable";
  // NCCL >= 2.9 encodes major·10000 + minor·100 + patch.
  return str(v / 10000, ".", (v / 100) % 100, ".", v % 100);
}

}  // namespace weft::sys
