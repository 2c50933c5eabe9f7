// CUDA runtime facts for the hardware report. Defined only in CUDA builds: check
// build::kHaveCuda before calling. Any thread.
#pragma once

#include <string>

namespace weft::sys {
// CUDA runtime version as 1000*major + 10*minor (e.g. 13000); 0 when unavailable.
int cuda_runtime_version();
// Number of CUDA devices the runtime sees (0 without a driver or GPU).
int cuda_device_count();
// NCCL's version as "2.28.9" (defined only in builds with NCCL: nccl_version_nccl.cpp).
std::string nccl_library_version();
}  // namespace weft::sys
