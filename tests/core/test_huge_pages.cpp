// Large AlignedBuffers on transparent huge pages (core/aligned_buffer.hpp): checked
// against the kernel's own accounting — the minor page faults the first touch costs
// (getrusage) and AnonHugePages of the buffer's mapping in /proc/self/smaps — not
// against weft's idea of what it asked for.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "core/aligned_buffer.hpp"
#include "core/huge_pages.hpp"

namespace weft {
namespace {

// THP can be advised (mode "always" or "madvise") and weft was not told to skip it.
bool huge_pages_usable() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  std::getline(f, mode);
  return huge_pages_enabled() && mode.find("[never]") == std::string::npos && !mode.empty();
}

// Under AddressSanitizer the kernel's counters see ASan too: its shadow memory faults
// in small pages (585 faults beside an 8 MiB buffer's first touch), and its allocator
// fills the first 4 KiB of every block (ASAN_OPTIONS max_malloc_fill_size) before
// AlignedBuffer's madvise, so the first 2 MiB stays on small pages (AnonHugePages
// 6 of 8 MiB). The kernel's accounting is checked in builds without ASan only.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsanInTheCounters = true;
#else
constexpr bool kAsanInTheCounters = false;
#endif

long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

// AnonHugePages (bytes) of the mapping that contains p, from /proc/self/smaps; -1 if
// no mapping contains it.
long anon_huge_bytes_at(const void* p) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  std::ifstream f("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(f, line)) {
    std::uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
      inside = lo <= a && a < hi;
      continue;
    }
    if (inside && line.rfind("AnonHugePages:", 0) == 0) {
      std::istringstream v(line.substr(14));
      long kb = 0;
      v >> kb;
      return kb * 1024;
    }
  }
  return -1;
}

TEST(HugePages, LargeBufferFaultsInTwoMiBAtATime) {
  if (!huge_pages_usable()) GTEST_SKIP() << "transparent huge pages are off (or WEFT_HUGE_PAGES=0)";
  constexpr std::size_t kBytes = 4 * kHugePageBytes;  // 2048 small pages
  const long before = minor_faults();
  AlignedBuffer<float> buf(kBytes / sizeof(float), /*zero=*/false);
  std::memset(buf.data(), 1, buf.bytes());  // the first touch
  const long faults = minor_faults() - before;
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(buf.data()) % kHugePageBytes, 0u);
  if (kAsanInTheCounters) return;
  // 4 huge pages, plus a few for the allocator's own header; 4 KiB pages would be 2048.
  EXPECT_LT(faults, 64) << "first touch of 8 MiB took " << faults << " page faults";
  EXPECT_GE(anon_huge_bytes_at(buf.data()), static_cast<long>(kBytes));
}

TEST(HugePages, OddSizedLargeBufferIsStillWhole) {
  if (!huge_pages_usable()) GTEST_SKIP() << "transparent huge pages are off (or WEFT_HUGE_PAGES=0)";
  // 2 MiB + 3 floats: rounded up to whole huge pages, zeroed, every element usable.
  const std::size_t n = kHugePageBytes / sizeof(float) + 3;
  AlignedBuffer<float> buf(n);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(buf.data()) % kHugePageBytes, 0u);
  EXPECT_EQ(buf.size(), n);
  for (std::size_t i = 0; i < n; i += 4093) EXPECT_EQ(buf[i], 0.0f);
  EXPECT_EQ(buf[n - 1], 0.0f);
  buf[n - 1] = 7.0f;
  EXPECT_EQ(buf[n - 1], 7.0f);
  if (kAsanInTheCounters) return;
  EXPECT_GE(anon_huge_bytes_at(buf.data()), static_cast<long>(2 * kHugePageBytes));
}

TEST(HugePages, SmallBufferKeepsCacheLineAlignmentOnly) {
  // Below 2 MiB nothing changes: 64-byte alignment, no rounding to a huge page.
  AlignedBuffer<float> buf(1000);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(buf.data()) % kBufferAlignment, 0u);
  EXPECT_EQ(buf.bytes(), 4000u);
}

}  // namespace
}  // namespace weft
