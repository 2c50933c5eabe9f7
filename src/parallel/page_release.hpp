// Giving parts of a flat float buffer back to the OS (ZeRO-2/3: the pieces a rank
// does not own) and measuring what stays resident. Plain functions on memory the
// caller owns; call from the thread that owns the buffer.
//
// Page faults are very expensive in VMs (~15-65 µs per 4 KiB fault on the 2-core
// Firecracker VM: a d6 ZeRO-2 step paid ~300 ms CPU for 14,600 of them), so with
// PageGrain::kHuge only whole 2 MiB pages are released (the buffer must have
// been advised huge, core/huge_pages.hpp): a released range comes back with one
// fault per 2 MiB. The partial huge pages at a range's edges are zeroed and kept.
#pragma once

#include <cstddef>

namespace weft::parallel {

enum class PageGrain {
  kSmall,  // every whole 4 KiB page inside the range (exact; many faults later)
  kHuge,   // only whole 2 MiB pages inside the range (one fault per 2 MiB later)
};

// Makes p[begin, end) read as zero: the whole pages of `grain` inside it go back to
// the OS (madvise MADV_DONTNEED), the rest is overwritten with zeros.
void release_range(float* p, std::size_t begin, std::size_t end, PageGrain grain);

// Bytes of p[0, n) resident in RAM now (mincore; whole 4 KiB pages), -1 on error.
double resident_bytes(const float* p, std::size_t n);

}  // namespace weft::parallel
