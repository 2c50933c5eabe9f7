// CPU time of this process (every thread, user + system), from getrusage: what a busy
// machine disturbs less than the wall clock. Any thread may call it.
#pragma once

namespace weft {

// Seconds of CPU this process has used so far.
double process_cpu_seconds();

}  // namespace weft
