// Transparent huge pages (2 MiB) for the large flat buffers (parameters, gradients,
// optimizer state): fewer TLB misses, and — what ZeRO's page release needs — a
// released 2 MiB range comes back with one page fault instead of 512 (page faults
// are very expensive in VMs). Plain functions, any thread; they own nothing.
#pragma once

#include <cstddef>

namespace weft {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

// Asks the kernel (madvise MADV_HUGEPAGE) to back the 2 MiB-aligned part of
// [p, p + bytes) with huge pages from the next fault on; call before first touch.
// Returns false where the kernel refuses (no THP, or it is set to `never`); the
// buffer then works as before with small pages.
bool advise_huge_pages(void* p, std::size_t bytes);

}  // namespace weft
