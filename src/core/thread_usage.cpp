// Per-thread resource usage via getrusage(RUSAGE_THREAD). See thread_usage.hpp.
#include "core/thread_usage.hpp"

#include <sys/resource.h>

namespace weft {

ThreadUsage thread_usage_now() {
  ThreadUsage u;
#ifdef RUSAGE_THREAD
  rusage r{};
  if (getrusage(RUSAGE_THREAD, &r) != 0) return u;
  const auto ms = [](const timeval& t) { return t.tv_sec * 1e3 + t.tv_usec / 1e3; };
  u.sys_ms = ms(r.ru_stime);
  u.cpu_ms = ms(r.ru_utime) + u.sys_ms;
  u.minor_faults = r.ru_minflt;
  u.voluntary_cs = r.ru_nvcsw;
  u.involuntary_cs = r.ru_nivcsw;
#endif
  return u;
}

}  // namespace weft
