// CudaContext. See context.hpp.
#include "kernels/cuda/context.hpp"

namespace weft::cuda {

CudaContext::CudaContext(bool deterministic) : deterministic_(deterministic) {
  WEFT_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  WEFT_CUBLAS_CHECK(cublasCreate(&cublas_));
  WEFT_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
  WEFT_CUBLAS_CHECK(cublasLtCreate(&cublaslt_));
  workspace_.allocate(32u << 20);
  WEFT_CUBLAS_CHECK(cublasSetWorkspace(cublas_, workspace_.data(), workspace_.bytes()));
  // fp32 GEMMs stay fp32 (no TF32) so the fp32 mode compares with the CPU reference.
  WEFT_CUBLAS_CHECK(cublasSetMathMode(cublas_, CUBLAS_DEFAULT_MATH));
}

CudaContext::~CudaContext() {
  if (cublaslt_) cublasLtDestroy(cublaslt_);
  if (cublas_) cublasDestroy(cublas_);
  if (stream_) cudaStreamDestroy(stream_);
}

void CudaContext::synchronize() const { WEFT_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

}  // namespace weft::cuda
