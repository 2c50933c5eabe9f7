// Scenario 3, memory-bandwidth scaling: STREAM-style triad a = b + 3c over arrays
// larger than the last-level cache, split over n workers. The arrays live in one
// shared mapping, so threads and processes stream over the same physical pages.
// Each run first fills its slice of `a` with -1, does one triad and checks every
// element against b(i) + 3c(i) computed from the index, then times the repeats.
#include <unistd.h>

#include <algorithm>

#include "core/error.hpp"
#include "sys/parallel_bench/kernels.hpp"
#include "sys/parallel_bench/scenarios.hpp"
#include "sys/parallel_bench/stats.hpp"
#include "sys/parallel_bench/sync.hpp"
#include "sys/parallel_bench/workers.hpp"

namespace weft::sys::pbench {
namespace {

constexpr int kMaxRepeats = 64;

struct Control {  // in shared memory
  SharedBarrier barrier;
  double rep_seconds[kMaxRepeats];
};

void triad(double* __restrict a, const double* __restrict b, const double* __restrict c,
           std::size_t begin, std::size_t end) {
  for (std::size_t i = begin; i < end; ++i) a[i] = b[i] + kTriadScalar * c[i];
}

std::size_t triad_bytes_for(const Options& options, std::size_t l3) {
  if (options.triad_array_bytes > 0) return options.triad_array_bytes;
  constexpr std::size_t kMiB = 1u << 20;
  const std::size_t assumed_l3 = l3 > 0 ? l3 : 32 * kMiB;
  // Full run: each array 1.25 x L3 (so is the working set several times L3), capped at
  // 1 GiB. Quick run: half of L3 (at least 32 MiB), capped at 64 MiB; where L3 is huge (some VMs report
  // the whole socket's) the quick working set may then fit in L3, and the report says so.
  std::size_t bytes = options.quick ? std::min(std::max(assumed_l3 / 2, 32 * kMiB), 64 * kMiB)
                                    : std::min(std::max(assumed_l3 + assumed_l3 / 4, 64 * kMiB), 1024 * kMiB);
  const long avail_pages = sysconf(_SC_AVPHYS_PAGES);
  if (avail_pages > 0) {
    const std::size_t cap = static_cast<std::size_t>(avail_pages) *
                            static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) / 8;
    bytes = std::min(bytes, std::max(cap, 8 * kMiB));
  }
  return (bytes + kMiB - 1) / kMiB * kMiB;
}

}  // namespace

MemoryResult run_memory_scaling(const Options& options) {
  MemoryResult result;
  const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
  result.l3_bytes = l3 > 0 ? static_cast<std::size_t>(l3) : 0;
  result.array_bytes = triad_bytes_for(options, result.l3_bytes);
  result.repeats = std::clamp(options.triad_repeats, 1, kMaxRepeats);
  const std::size_t elems = result.array_bytes / sizeof(double);

  SharedRegion arrays(3 * elems * sizeof(double));  // a | b | c, each (elems,)
  double* a = arrays.as<double>();
  double* b = a + elems;
  double* c = b + elems;
  for (std::size_t i = 0; i < elems; ++i) {
    b[i] = triad_b(i);
    c[i] = triad_c(i);
  }
  SharedRegion control_region(sizeof(Control));
  auto* control = control_region.construct<Control>();
  const int repeats = result.repeats;
  const double timeout = options.peer_timeout_s;

  for (int n : worker_counts(options.max_workers)) {
    MemoryRow row;
    row.workers = n;
    for (WorkerKind kind : {WorkerKind::kThread, WorkerKind::kProcess}) {
      control->barrier.init(static_cast<uint32_t>(n));
      const auto outcomes = run_workers(kind, n, [&](int w) {
        const std::size_t begin = elems * static_cast<std::size_t>(w) / static_cast<std::size_t>(n);
        const std::size_t end = elems * static_cast<std::size_t>(w + 1) / static_cast<std::size_t>(n);
        std::fill(a + begin, a + end, -1.0);
        if (!control->barrier.arrive_and_wait(Deadline::in(timeout))) return kWorkerTimeout;
        triad(a, b, c, begin, end);  // the checked run
        for (std::size_t i = begin; i < end; ++i)
          if (a[i] != triad_b(i) + kTriadScalar * triad_c(i)) return kWorkerCheckFailed;
        for (int r = 0; r < repeats; ++r) {
          if (!control->barrier.arrive_and_wait(Deadline::in(timeout))) return kWorkerTimeout;
          const double t0 = now_s();
          triad(a, b, c, begin, end);
          if (!control->barrier.arrive_and_wait(Deadline::in(timeout))) return kWorkerTimeout;
          if (w == 0) control->rep_seconds[r] = now_s() - t0;
        }
        return 0;
      });
      require_all_ok(outcomes, str("memory-bandwidth scenario (", n, " ", worker_kind_name(kind), ")"));
      std::vector<double> gbps;
      for (int r = 0; r < repeats; ++r)
        gbps.push_back(3.0 * static_cast<double>(result.array_bytes) / control->rep_seconds[r] / 1e9);
      (kind == WorkerKind::kThread ? row.thread_gbps : row.process_gbps) = median(gbps);
    }
    result.rows.push_back(row);
  }
  return result;
}

}  // namespace weft::sys::pbench
