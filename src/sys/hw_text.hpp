// Small pure helpers shared by the hardware readers: reading one small /proc or
// /sys file under a root prefix, and parsing the text formats found there (CPU
// lists, cache sizes, integers). Values are returned by value; any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weft::sys {

// `abs_path` ("/proc/cpuinfo") placed under `root` ("/" or a fixture folder).
std::filesystem::path path_under_root(const std::string& root, std::string_view abs_path);

// Whole contents of a small text file; nullopt when missing or unreadable
// (a hardware report treats both as "unknown", never as an error).
std::optional<std::string> read_small_file(const std::filesystem::path& path);

std::string_view trim(std::string_view text);

// A whole decimal integer (surrounding blanks allowed); nullopt for anything else.
std::optional<std::int64_t> parse_int(std::string_view text);

// Linux CPU list ("0-3,8,10-11", one trailing newline allowed), sorted and
// deduplicated; nullopt when malformed or empty.
std::optional<std::vector<int>> parse_cpu_list(std::string_view text);

// sysfs cache size ("32K", "12288K", "1M", "512"): bytes; nullopt when malformed.
std::optional<std::int64_t> parse_cache_size(std::string_view text);

}  // namespace weft::sys
