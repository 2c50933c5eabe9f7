// Error checking for CUDA runtime, cuBLAS and cuBLASLt calls: a failing call becomes a
// weft::Error (kind runtime) naming the call, the file:line and the library's message,
// with a HINT where the usual fix is known. Any thread.
#pragma once

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

namespace weft::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t st, const char* call, const char* file, int line);

}  // namespace weft::cuda

#define WEFT_CUDA_CHECK(call)                                                           \
  do {                                                                                  \
    const cudaError_t weft_err_ = (call);                                               \
    if (weft_err_ != cudaSuccess)                                          \
      ::weft::cuda::throw_cuda_error(weft_err_, #call, __FILE__, __LINE__);             \
  } while (0)

#define WEFT_CUBLAS_CHECK(call)                                                         \
  do {                                                                                  \
    const cublasStatus_t weft_st_ = (call);                                             \
    if (weft_st_ != CUBLAS_STATUS_SUCCESS)                                 \
      ::weft::cuda::throw_cublas_error(weft_st_, #call, __FILE__, __LINE__);            \
  } while (0)

// After a kernel launch: a bad launch configuration is reported at once.
#define WEFT_CUDA_LAUNCH_CHECK() WEFT_CUDA_CHECK(cudaGetLastError())
