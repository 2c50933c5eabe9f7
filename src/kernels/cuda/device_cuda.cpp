// CUDA device queries and error translation. See device.hpp and cuda_check.hpp.
#include <atomic>

#include "core/error.hpp"
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/device.hpp"

namespace weft::cuda {
namespace {
std::atomic<std::ptrdiff_t> g_allocated{0};  // process-wide counters of DeviceBuffer bytes
std::atomic<std::ptrdiff_t> g_peak{0};
}  // namespace

void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line) {
  std::string hint;
  if (err == cudaErrorMemoryAllocation)
    hint = "the model/batch does not fit in device memory: lower --batch, or use --recompute";
  else if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver)
    hint = "check `nvidia-smi`; the driver must support this CUDA runtime";
  throw Error(ErrorKind::kRuntime,
              str("CUDA error in ", call, " (", file, ":", line, "): ", cudaGetErrorName(err), ": ",
                  cudaGetErrorString(err)),
              hint);
}

void throw_cublas_error(cublasStatus_t st, const char* call, const char* file, int line) {
  throw Error(ErrorKind::kRuntime, str("cuBLAS error in ", call, " (", file, ":", line, "): ",
                                       cublasGetStatusName(st), ": ", cublasGetStatusString(st)));
}

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return n;
}

std::string no_device_reason() {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  cudaGetLastError();
  if (err != cudaSuccess) return cudaGetErrorString(err);
  return n == 0 ? "the CUDA runtime sees 0 devices" : "";
}

void require_device(int index, const std::string& what) {
  const int n = device_count();
  if (n == 0)
    throw config_error(str(what, ": no CUDA device (", no_device_reason(), ")"),
                       "run on a machine with an NVIDIA GPU and driver, or use --device cpu");
  if (index < 0 || index >= n)
    throw config_error(str(what, ": CUDA device ", index, " does not exist (", n, " found)"));
  WEFT_CUDA_CHECK(cudaSetDevice(index));
}

std::string describe_current_device() {
  int dev = 0;
  WEFT_CUDA_CHECK(cudaGetDevice(&dev));
  cudaDeviceProp p{};
  WEFT_CUDA_CHECK(cudaGetDeviceProperties(&p, dev));
  return str(p.name, ", sm_", p.major, p.minor, ", ",
             static_cast<double>(p.totalGlobalMem) / (1u << 30), " GiB");
}

void memory_info(std::size_t& free_bytes, std::size_t& total_bytes) {
  WEFT_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
}

std::size_t allocated_bytes() { return static_cast<std::size_t>(g_allocated.load()); }
std::size_t peak_allocated_bytes() { return static_cast<std::size_t>(g_peak.load()); }

void note_alloc(std::ptrdiff_t bytes) {
  const std::ptrdiff_t now = g_allocated.fetch_add(bytes) + bytes;
  std::ptrdiff_t peak = g_peak.load();
  while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
  }
}

}  // namespace weft::cuda
