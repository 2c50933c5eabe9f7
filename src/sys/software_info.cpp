// Software facts for `weft hw` (see software_info.hpp). OpenBLAS's query
// functions are declared here as OpenBLAS exports them (weft requires OpenBLAS,
// cmake/WeftDependencies.cmake), so no OpenBLAS header is needed.
#include "sys/software_info.hpp"

#include <omp.h>

#include "core/build_info.hpp"
#include "core/error.hpp"
#include "sys/hw_text.hpp"
#include "sys/mpi_version.hpp"

#if defined(WEFT_HAVE_CUDA)
#include "sys/cuda_runtime_info.hpp"
#endif

extern "C" {
char* openblas_get_config(void);
int openblas_get_num_threads(void);
int openblas_get_parallel(void);
}

namespace weft::sys {

namespace {

// _OPENMP is the yyyymm date of the OpenMP specification the compiler implements.
std::string openmp_version_string() {
#if defined(_OPENMP)
  const int date = _OPENMP;
  const char* version = date >= 202111 ? "5.2"
                        : date >= 202011 ? "5.1"
                        : date >= 201811 ? "5.0"
                        : date >= 201511 ? "4.5"
                        : date >= 201307 ? "4.0"
                        : date >= 201107 ? "3.1"
                                         : "3.0 or older";
  return str(version, " (_OPENMP ", date, ")");
#else
  return "not built";
#endif
}

}  // namespace

std::string cuda_version_string(int encoded) {
  return str(encoded / 1000, ".", (encoded % 1000) / 10);
}

SoftwareInfo read_software_info() {
  SoftwareInfo info;
#if defined(__VERSION__)
  info.compiler = str(build::kCompilerId, " (", __VERSION__, ")");
#else
  info.compiler = build::kCompilerId;
#endif
  const char* config = openblas_get_config();
  info.blas = config ? std::string(trim(config)) : "OpenBLAS (no configuration string)";
  info.blas_threads = openblas_get_num_threads();
  const int parallel = openblas_get_parallel();
  info.blas_threading = parallel == 0   ? "sequential"
                        : parallel == 1 ? "pthreads"
                        : parallel == 2 ? "OpenMP"
                                        : "unknown";
  info.openmp_version = openmp_version_string();
  info.openmp_max_threads = omp_get_max_threads();
  const MpiVersion mpi = mpi_library_version();
  info.mpi = mpi.library;
  info.mpi_standard = mpi.standard;
#if defined(WEFT_HAVE_CUDA)
  const int runtime = cuda_runtime_version();
  info.cuda_runtime = runtime > 0 ? cuda_version_string(runtime) : "unavailable";
  info.cuda_devices = cuda_device_count();
#else
  info.cuda_runtime = "not built";
#endif
#if defined(WEFT_HAVE_NCCL)
  info.nccl = nccl_library_version();
#else
  info.nccl = "not built";
#endif
  return info;
}

}  // namespace weft::sys
