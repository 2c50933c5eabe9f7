// The software side of `weft hw`: compiler, BLAS and its threads, OpenMP, MPI,
// CUDA runtime and NCCL as this binary was built and sees them now. Returned by
// value; call from the main thread (it asks OpenMP and OpenBLAS for thread counts).
#pragma once

#include <optional>
#include <string>

namespace weft::sys {

struct SoftwareInfo {
  std::string compiler;                  // e.g. "GNU 12.2.0"
  std::string blas;                      // openblas_get_config(), or why unknown
  std::optional<int> blas_threads;       // openblas_get_num_threads()
  std::string blas_threading;            // "OpenMP", "pthreads", "sequential" or "unknown"
  std::string openmp_version;            // e.g. "4.5 (_OPENMP 201511)"
  int openmp_max_threads = 1;            // omp_get_max_threads()
  std::string mpi;                       // MPI library line or "not built"
  std::optional<std::string> mpi_standard;
  std::string cuda_runtime;              // e.g. "13.0", "not built"
  std::optional<int> cuda_devices;       // devices the CUDA runtime sees (CUDA builds)
  std::string nccl;                      // "not built" until NCCL lands
};

SoftwareInfo read_software_info();

// "12.7" for 12070 (CUDA's 1000*major + 10*minor encoding).
std::string cuda_version_string(int encoded);

}  // namespace weft::sys
