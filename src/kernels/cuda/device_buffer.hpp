// DeviceBuffer<T>: one cudaMalloc'd array of n elements, freed by its destructor (the
// only owner; move-only). Copies to/from host are synchronous on the default stream
// unless a stream is given. Any thread, one at a time per buffer.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <utility>
#include <vector>

#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/device.hpp"

namespace weft::cuda {

template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t n, bool zero = false) { allocate(n, zero); }
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      ptr_ = std::exchange(o.ptr_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void allocate(std::size_t n, bool zero = false) {
    reset();
    if (n == 0) return;
    void* p = nullptr;
    WEFT_CUDA_CHECK(cudaMalloc(&p, n * sizeof(T)));
    ptr_ = static_cast<T*>(p);
    n_ = n;
    note_alloc(static_cast<std::ptrdiff_t>(bytes()));
    if (zero) WEFT_CUDA_CHECK(cudaMemset(ptr_, 0, bytes()));
  }
  void reset() noexcept {
    if (ptr_ != nullptr) {
      cudaFree(ptr_);
      note_alloc(-static_cast<std::ptrdiff_t>(bytes()));
    }
    ptr_ = nullptr;
    n_ = 0;
  }
  void zero(cudaStream_t stream = nullptr) {
    if (n_) WEFT_CUDA_CHECK(cudaMemsetAsync(ptr_, 0, bytes(), stream));
  }
  // Host → device of h (n_ elements, or the first count).
  void upload(const T* h, std::size_t count, cudaStream_t stream = nullptr) {
    WEFT_CUDA_CHECK(cudaMemcpyAsync(ptr_, h, count * sizeof(T), cudaMemcpyHostToDevice, stream));
    WEFT_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  void upload(const std::vector<T>& h) { upload(h.data(), h.size()); }
  void download(T* h, std::size_t count, cudaStream_t stream = nullptr) const {
    WEFT_CUDA_CHECK(cudaMemcpyAsync(h, ptr_, count * sizeof(T), cudaMemcpyDeviceToHost, stream));
    WEFT_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  std::vector<T> to_host() const {
    std::vector<T> h(n_);
    if (n_) download(h.data(), n_);
    return h;
  }

  T* data() { return ptr_; }
  const T* data() const { return ptr_; }
  std::size_t size() const { return n_; }
  std::size_t bytes() const { return n_ * sizeof(T); }
  bool empty() const { return n_ == 0; }

 private:
  T* ptr_ = nullptr;
  std::size_t n_ = 0;
};

}  // namespace weft::cuda
