// Compiled only in CUDA builds (WEFT_CUDA): what the CUDA runtime reports, for
// `weft hw`. Kernels live in src/kernels/cuda/ (the GPU issue).
#include <cuda_runtime.h>

#include "sys/cuda_runtime_info.hpp"

namespace weft::sys {

int cuda_runtime_version() {
  int v = 0;
  if (cudaRuntimeGetVersion(&v) != cudaSuccess) return 0;
  return v;
}

int cuda_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return n;
}

}  // namespace weft::sys
