// Transparent huge page advice. See huge_pages.hpp.
#include "core/huge_pages.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>

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

bool huge_pages_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("WEFT_HUGE_PAGES");
    return v == nullptr || std::strcmp(v, "0") != 0;
  }();
  return enabled;
}

}  // namespace weft
