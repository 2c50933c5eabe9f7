// An owning, fixed-size, 64-byte-aligned array (cache line / AVX-512 width), used for
// parameters, gradients, optimizer state and activation arenas. Move-only; its
// owner frees it. Contents start zeroed unless told otherwise. Buffers of 2 MiB and
// more are 2 MiB-aligned and advised onto transparent huge pages before the first
// touch (core/huge_pages.hpp says why; WEFT_HUGE_PAGES=0 turns it off).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>
#include <type_traits>
#include <utility>

#include "core/error.hpp"
#include "core/huge_pages.hpp"

namespace weft {

inline constexpr std::size_t kBufferAlignment = 64;

template <typename T>
class AlignedBuffer {
  static_assert(std::is_trivially_copyable_v<T>, "AlignedBuffer holds plain data only");

 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t count, bool zero = true) { allocate(count, zero); }
  ~AlignedBuffer() { release(); }

  AlignedBuffer(AlignedBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        mapped_(std::exchange(other.mapped_, 0)) {}
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      mapped_ = std::exchange(other.mapped_, 0);
    }
    return *this;
  }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  // Replaces the contents with `count` elements (zeroed when `zero`).
  void allocate(std::size_t count, bool zero = true) {
    release();
    if (count == 0) return;
    std::size_t bytes = count * sizeof(T);
    void* p = nullptr;
    if (bytes >= kHugePageBytes && huge_pages_enabled()) {
      // Its own mapping, advised before anything touches it (an allocator's header or
      // fill pattern in the block would keep that part on small pages).
      bytes = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
      p = map_huge_pages(bytes);
      mapped_ = bytes;
    } else {
      bytes = (bytes + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
      p = std::aligned_alloc(kBufferAlignment, bytes);
      if (p == nullptr) throw std::bad_alloc();
    }
    data_ = static_cast<T*>(p);
    size_ = count;
    if (zero) std::memset(data_, 0, bytes);  // touch every page now, as small buffers do
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::size_t bytes() const { return size_ * sizeof(T); }
  bool empty() const { return size_ == 0; }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  std::span<T> span() { return {data_, size_}; }
  std::span<const T> span() const { return {data_, size_}; }

 private:
  void release() {
    if (mapped_ != 0) unmap_huge_pages(data_, mapped_);
    else std::free(data_);
    data_ = nullptr;
    size_ = 0;
    mapped_ = 0;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t mapped_ = 0;  // bytes of its own huge-page mapping, 0 = from aligned_alloc
};

}  // namespace weft
