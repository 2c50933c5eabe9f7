// Pure text helpers for the hardware readers (see hw_text.hpp).
#include "sys/hw_text.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <memory>

namespace weft::sys {

std::filesystem::path path_under_root(const std::string& root, std::string_view abs_path) {
  while (!abs_path.empty() && abs_path.front() == '/') abs_path.remove_prefix(1);
  return std::filesystem::path(root.empty() ? "/" : root) / std::string(abs_path);
}

std::optional<std::string> read_small_file(const std::filesystem::path& path) {
  // fopen/fread rather than file sizes: /proc files report size 0.
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return std::nullopt;
  std::string text;
  char buffer[4096];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) {
    text.append(buffer, got);
    if (text.size() > (64u << 20)) return std::nullopt;  // not a small file: refuse
  }
  if (std::ferror(file.get())) return std::nullopt;  // e.g. EISDIR
  return text;
}

std::string_view trim(std::string_view text) {
  const char* blanks = " \t\r\n";
  const size_t first = text.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  const size_t last = text.find_last_not_of(blanks);
  return text.substr(first, last - first + 1);
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::vector<int>> parse_cpu_list(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  std::vector<int> cpus;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const size_t dash = item.find('-');
    const auto first = parse_int(item.substr(0, dash));
    const auto last = dash == std::string_view::npos ? first : parse_int(item.substr(dash + 1));
    // Bound the range so a corrupt file cannot make us allocate gigabytes.
    if (!first || !last || *first < 0 || *last < *first || *last > (1 << 20)) return std::nullopt;
    for (std::int64_t cpu = *first; cpu <= *last; ++cpu) cpus.push_back(static_cast<int>(cpu));
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

std::optional<std::int64_t> parse_cache_size(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  std::int64_t scale = 1;
  switch (text.back()) {
    case 'K': scale = 1LL << 10; break;
    case 'M': scale = 1LL << 20; break;
    case 'G': scale = 1LL << 30; break;
    default: break;
  }
  if (scale != 1) text.remove_suffix(1);
  const auto value = parse_int(text);
  if (!value || *value < 0) return std::nullopt;
  return *value * scale;
}

}  // namespace weft::sys
