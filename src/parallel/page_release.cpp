// Releasing buffer ranges to the OS and measuring residency. See page_release.hpp.
#include "parallel/page_release.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include "core/huge_pages.hpp"

namespace weft::parallel {
namespace {

std::size_t small_page() {
  static const auto size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

}  // namespace

void release_range(float* p, std::size_t begin, std::size_t end, PageGrain grain) {
  if (end <= begin) return;
  const std::size_t ps = grain == PageGrain::kHuge ? kHugePageBytes : small_page();
  const auto a = reinterpret_cast<std::uintptr_t>(p + begin);
  const auto b = reinterpret_cast<std::uintptr_t>(p + end);
  const std::uintptr_t first = (a + ps - 1) / ps * ps, last = b / ps * ps;
  if (last <= first || madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED) != 0) {
    std::fill(p + begin, p + end, 0.0f);
    return;
  }
  std::fill(p + begin, reinterpret_cast<float*>(first), 0.0f);
  std::fill(reinterpret_cast<float*>(last), p + end, 0.0f);
}

double resident_bytes(const float* p, std::size_t n) {
  if (n == 0) return 0.0;
  const std::size_t ps = small_page();
  const auto a = reinterpret_cast<std::uintptr_t>(p) / ps * ps;
  const auto b = reinterpret_cast<std::uintptr_t>(p + n);
  const std::size_t pages = (b - a + ps - 1) / ps;
  std::vector<unsigned char> vec(pages);
  if (mincore(reinterpret_cast<void*>(a), pages * ps, vec.data()) != 0) return -1.0;
  std::size_t in = 0;
  for (unsigned char v : vec) in += v & 1u;
  return static_cast<double>(in * ps);
}

}  // namespace weft::parallel
