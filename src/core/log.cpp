// Rank-aware logging to stderr. See log.hpp.
#include "core/log.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace weft {
namespace {

thread_local int t_rank = 0;
thread_local int t_world = 1;

LogLevel level_from_env() {
  const char* env = std::getenv("WEFT_LOG");
  if (env == nullptr) return LogLevel::kInfo;
  if (std::strcmp(env, "debug") == 0) return LogLevel::kDebug;
  if (std::strcmp(env, "warn") == 0) return LogLevel::kWarn;
  if (std::strcmp(env, "error") == 0) return LogLevel::kError;
  if (std::strcmp(env, "quiet") == 0) return LogLevel::kQuiet;
  return LogLevel::kInfo;
}

std::atomic<int>& level_storage() {
  static std::atomic<int> level{static_cast<int>(level_from_env())};
  return level;
}

std::mutex& write_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

void log_set_rank(int rank, int world_size) {
  t_rank = rank;
  t_world = world_size;
}
int log_rank() { return t_rank; }
void log_set_level(LogLevel level) { level_storage().store(static_cast<int>(level)); }
LogLevel log_level() { return static_cast<LogLevel>(level_storage().load()); }

void log_write(LogLevel level, const std::string& message) {
  if (static_cast<int>(level) < level_storage().load()) return;
  if (level <= LogLevel::kInfo && t_rank != 0) return;
  std::string line;
  if (t_world > 1) line += str("[r", t_rank, "] ");
  if (level == LogLevel::kWarn) line += "warning: ";
  if (level == LogLevel::kError) line += "error: ";
  if (level == LogLevel::kDebug) line += "debug: ";
  line += message;
  line += '\n';
  std::lock_guard<std::mutex> lock(write_mutex());
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace weft
