// Transparent huge page advice. See huge_pages.hpp.
#include "core/huge_pages.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include <sys/mman.h>

namespace weft {

bool advise_huge_pages(void* p, std::size_t bytes) {
#ifdef MADV_HUGEPAGE
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t first = (a + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  const std::uintptr_t last = (a + bytes) / kHugePageBytes * kHugePageBytes;
  if (last <= first) return false;
  return madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE) == 0;
#else
  (void)p;
  (void)bytes;
  return false;
#endif
}

void* map_huge_pages(std::size_t bytes) {
  // Map one huge page more than asked, keep the 2 MiB-aligned part, unmap the rest.
  const std::size_t span = bytes + kHugePageBytes;
  void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto a = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t first = (a + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  if (first > a) munmap(raw, first - a);
  const std::uintptr_t tail = a + span - (first + bytes);
  if (tail > 0) munmap(reinterpret_cast<void*>(first + bytes), tail);
  void* p = reinterpret_cast<void*>(first);
  advise_huge_pages(p, bytes);
  return p;
}

void unmap_huge_pages(void* p, std::size_t bytes) {
  if (p != nullptr) munmap(p, bytes);
}

bool huge_pages_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("WEFT_HUGE_PAGES");
    return v == nullptr || std::strcmp(v, "0") != 0;
  }();
  return enabled;
}

}  // namespace weft
