// /proc/meminfo parsing and NUMA node counting (see mem_info.hpp).
#include "sys/mem_info.hpp"

#include <cctype>
#include <filesystem>
#include <system_error>

#include "sys/hw_text.hpp"

namespace weft::sys {

std::map<std::string, std::int64_t> parse_meminfo(std::string_view text) {
  std::map<std::string, std::int64_t> values;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = trim(line.substr(0, colon));
    std::string_view rest = trim(line.substr(colon + 1));
    std::int64_t scale = 1;
    if (rest.size() > 2 && rest.substr(rest.size() - 2) == "kB") {
      scale = 1024;
      rest = trim(rest.substr(0, rest.size() - 2));
    }
    const auto value = parse_int(rest);
    if (key.empty() || !value || *value < 0) continue;
    values[std::string(key)] = *value * scale;
  }
  return values;
}

namespace {

std::optional<std::int64_t> lookup(const std::map<std::string, std::int64_t>& values,
                                   const char* key) {
  const auto it = values.find(key);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

std::optional<int> count_numa_nodes(const std::string& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::directory_iterator it(path_under_root(root, "/sys/devices/system/node"), ec), end;
  if (ec) return std::nullopt;
  int nodes = 0;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() > 4 && name.rfind("node", 0) == 0 &&
        name.find_first_not_of("0123456789", 4) == std::string::npos)
      ++nodes;
  }
  if (nodes == 0) return std::nullopt;
  return nodes;
}

}  // namespace

MemInfo read_mem_info(const std::string& root) {
  MemInfo mem;
  if (const auto text = read_small_file(path_under_root(root, "/proc/meminfo"))) {
    const auto values = parse_meminfo(*text);
    mem.total_bytes = lookup(values, "MemTotal");
    mem.available_bytes = lookup(values, "MemAvailable");
    mem.swap_total_bytes = lookup(values, "SwapTotal");
    mem.swap_free_bytes = lookup(values, "SwapFree");
    mem.commit_limit_bytes = lookup(values, "CommitLimit");
    mem.committed_bytes = lookup(values, "Committed_AS");
  }
  mem.numa_nodes = count_numa_nodes(root);
  return mem;
}

}  // namespace weft::sys
