// Memory facts for `weft hw` from /proc/meminfo and /sys/devices/system/node under
// a root prefix. Unknown facts are empty optionals. Returned by value; any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace weft::sys {

// "Key:   123 kB" lines → key → value; "kB" values are converted to bytes, others
// (HugePages_Total) kept as counts. Malformed lines are skipped (pure).
std::map<std::string, std::int64_t> parse_meminfo(std::string_view text);

struct MemInfo {
  std::optional<std::int64_t> total_bytes;         // MemTotal
  std::optional<std::int64_t> available_bytes;     // MemAvailable
  std::optional<std::int64_t> swap_total_bytes;    // SwapTotal
  std::optional<std::int64_t> swap_free_bytes;     // SwapFree
  std::optional<std::int64_t> commit_limit_bytes;  // CommitLimit: the virtual memory ceiling
  std::optional<std::int64_t> committed_bytes;     // Committed_AS: promised now
  std::optional<int> numa_nodes;                   // nodeN folders in sysfs
};

MemInfo read_mem_info(const std::string& root);

}  // namespace weft::sys
