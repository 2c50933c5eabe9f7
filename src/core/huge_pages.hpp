// Transparent huge pages (2 MiB) for every large AlignedBuffer (parameters, gradients,
// optimizer state, activations, communication scratch): fewer TLB misses, and — what
// ZeRO's page release needs — a released 2 MiB range comes back with one page fault
// instead of 512. In a VM each TLB miss walks two levels of page tables (and under a
// paravirtual/shadow-paging hypervisor far worse): on the 2-vCPU development VM the
// AdamW sweep over 4 KiB pages took 100–330 ms per d6 step instead of 25–40 ms, and
// a d6 step 650–950 ms instead of 520–590 ms (docs/parallel.md, "Huge pages").
// Plain functions, any thread; they own nothing.
#pragma once

#include <cstddef>

namespace weft {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

// Asks the kernel (madvise MADV_HUGEPAGE) to back the 2 MiB-aligned part of
// [p, p + bytes) with huge pages from the next fault on; call before first touch.
// Returns false where the kernel refuses (no THP, or it is set to `never`); the
// buffer then works as before with small pages.
bool advise_huge_pages(void* p, std::size_t bytes);

// A fresh anonymous mapping of `bytes` (a multiple of kHugePageBytes) starting on a
// 2 MiB boundary, advised onto huge pages before any touch; contents zero. Throws
// std::bad_alloc when the kernel refuses. Free with unmap_huge_pages(p, bytes).
void* map_huge_pages(std::size_t bytes);
void unmap_huge_pages(void* p, std::size_t bytes);

// False when the environment says WEFT_HUGE_PAGES=0 (read once per process): every
// buffer then stays on small pages, for A/B measurements and for kernels where THP
// misbehaves.
bool huge_pages_enabled();

}  // namespace weft
