// Resources used by the calling thread so far (CPU time, page faults, context
// switches), from getrusage(RUSAGE_THREAD): per-step CPU time is what a loaded
// machine disturbs least, so benchmarks report it beside wall time. Value type;
// each thread measures itself.
#pragma once

namespace weft {

struct ThreadUsage {
  double cpu_ms = 0.0;      // user + system CPU time
  double sys_ms = 0.0;      // of which in the kernel
  long minor_faults = 0;    // page faults served without I/O (fresh or released pages)
  long voluntary_cs = 0;    // the thread blocked or slept (waits)
  long involuntary_cs = 0;  // the scheduler took the CPU away (load)

  ThreadUsage operator-(const ThreadUsage& o) const {
    return {cpu_ms - o.cpu_ms, sys_ms - o.sys_ms, minor_faults - o.minor_faults,
            voluntary_cs - o.voluntary_cs, involuntary_cs - o.involuntary_cs};
  }
};

// The calling thread's totals (zeros where the platform has no RUSAGE_THREAD).
ThreadUsage thread_usage_now();

}  // namespace weft
