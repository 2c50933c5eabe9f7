// Rank-aware logging (STYLE.md §7): info only from rank 0, warnings and errors from
// every rank prefixed "[rN]" when the world has more than one rank. The rank is
// per thread, so thread-ranks in one process each log as themselves.
// Safe to call from any thread; lines are never interleaved mid-line.
#pragma once

#include <string>

#include "core/error.hpp"

namespace weft {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kQuiet = 4 };

// Identity of the calling thread for log prefixes. Default: rank 0 of 1.
void log_set_rank(int rank, int world_size);
int log_rank();
// Process-wide threshold (default kInfo; WEFT_LOG=debug|info|warn|error|quiet overrides).
void log_set_level(LogLevel level);
LogLevel log_level();

void log_write(LogLevel level, const std::string& message);

template <typename... Args>
void log_debug(const Args&... args) { log_write(LogLevel::kDebug, str(args...)); }
template <typename... Args>
void log_info(const Args&... args) { log_write(LogLevel::kInfo, str(args...)); }
template <typename... Args>
void log_warn(const Args&... args) { log_write(LogLevel::kWarn, str(args...)); }
template <typename... Args>
void log_error(const Args&... args) { log_write(LogLevel::kError, str(args...)); }

}  // namespace weft
