// CudaContext: what every GPU op of one model needs: the compute stream, the cuBLAS and
// cuBLASLt handles with their workspace, and the deterministic switch. One owner (the
// model or a test); used by the host thread that drives that model.
#pragma once

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "kernels/cuda/device_buffer.hpp"

namespace weft::cuda {

class CudaContext {
 public:
  // Creates a stream and handles on the current device. deterministic: cuBLASLt may
  // not choose split-K reductions with atomics (weft's own kernels never use atomics).
  explicit CudaContext(bool deterministic = true);
  ~CudaContext();
  CudaContext(const CudaContext&) = delete;
  CudaContext& operator=(const CudaContext&) = delete;

  cudaStream_t stream() const { return stream_; }
  cublasHandle_t cublas() const { return cublas_; }
  cublasLtHandle_t cublaslt() const { return cublaslt_; }
  void* workspace() { return workspace_.data(); }
  std::size_t workspace_bytes() const { return workspace_.bytes(); }
  bool deterministic() const { return deterministic_; }
  void synchronize() const;

 private:
  bool deterministic_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  cublasLtHandle_t cublaslt_ = nullptr;
  DeviceBuffer<unsigned char> workspace_;  // (32 MiB) cuBLASLt / cuBLAS workspace
};

}  // namespace weft::cuda
