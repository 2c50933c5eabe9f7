// Input discovery, the KJV corpus builder and unit planning. See etl_plan.hpp.
#include "data/etl_plan.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/error.hpp"
#include "core/log.hpp"

namespace weft::data {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kSampleBytes = 64 * 1024;

// Reads up to `size` bytes at `offset` of `path` (fewer at end of file).
std::string read_range(const std::string& path, std::uint64_t offset, std::uint64_t size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw io_error_errno("cannot open input", path);
  std::string out(size, '\0');
  std::uint64_t got = 0;
  while (got < size) {
    const ssize_t n = ::pread(fd, out.data() + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      const Error e = io_error_errno("cannot read input", path);
      ::close(fd);
      throw e;
    }
    if (n == 0) break;
    got += static_cast<std::uint64_t>(n);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

// Length of the well-formed UTF-8 sequence starting at s[i] (1..4), or 0 if invalid.
int utf8_sequence_length(std::string_view s, std::size_t i, std::uint32_t* cp_out = nullptr) {
  const auto c = static_cast<unsigned char>(s[i]);
  int len;
  std::uint32_t cp;
  if (c < 0x80) {
    if (cp_out) *cp_out = c;
    return 1;
  } else if (c >= 0xC2 && c <= 0xDF) {
    len = 2, cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3, cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + static_cast<std::size_t>(len) > s.size()) return 0;
  for (int k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
      (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
    return 0;
  }
  if (cp_out) *cp_out = cp;
  return len;
}

// Unicode White_Space (what \s matches in GPT-2's pattern), plus the ASCII
// separators 0x1C..0x1F to be safe.
bool is_space_cp(std::uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || (cp >= 0x1C && cp <= 0x1F) || cp == 0x85 ||
         cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// True if the character ending just before byte `i` of `s` is a well-formed,
// non-space character. Then a cut before s[i] == '\n' splits no pre-token.
bool ends_with_nonspace_char(std::string_view s, std::size_t i) {
  if (i == 0) return false;
  const auto b = static_cast<unsigned char>(s[i - 1]);
  if (b < 0x80) return b > 0x20 && b < 0x7F;
  for (std::size_t back = 2; back <= 4 && back <= i; ++back) {
    const auto lead = static_cast<unsigned char>(s[i - back]);
    if ((lead & 0xC0) == 0x80) continue;
    std::uint32_t cp = 0;
    const int len = utf8_sequence_length(s.substr(0, i), i - back, &cp);
    return len == static_cast<int>(back) && !is_space_cp(cp);
  }
  return false;
}

// Finds the first cut position >= `from` in a source: for text, a '\n' preceded by a
// non-space character (the unit ends before the '\n'); for JSONL, just after a '\n'.
// Returns `size` if there is none. `fetch(offset, len)` returns source bytes.
template <typename Fetch>
std::uint64_t find_cut(SourceKind kind, std::uint64_t from, std::uint64_t size, Fetch fetch) {
  constexpr std::uint64_t kWindow = 64 * 1024;
  for (std::uint64_t at = from; at < size; at += kWindow) {
    // 4 bytes of look-behind so the character before a '\n' can be decoded.
    const std::uint64_t start = at >= 4 ? at - 4 : 0;
    const std::string w = fetch(start, std::min(size - start, kWindow + (at - start)));
    for (std::size_t j = at - start; j < w.size(); ++j) {
      if (w[j] != '\n') continue;
      if (kind == SourceKind::kJsonl) return start + j + 1;
      if (ends_with_nonspace_char(w, j)) return start + j;
    }
  }
  return size;
}

std::string source_bytes(const Source& s, std::uint64_t offset, std::uint64_t len) {
  if (s.kind == SourceKind::kMemory) return s.text->substr(offset, len);
  return read_range(s.name, offset, len);
}

}  // namespace

void etl_check_text(std::string_view bytes, const std::string& name, std::uint64_t offset) {
  const auto nul = bytes.find('\0');
  if (nul != std::string_view::npos) {
    throw input_error(str("input '", name, "': binary data (NUL byte at byte ", offset + nul,
                          "): not a text file"),
                      "pass only text or JSONL files (directories are searched recursively)");
  }
  std::uint64_t invalid = 0;
  for (std::size_t i = 0; i < bytes.size();) {
    const int len = utf8_sequence_length(bytes, i);
    if (len == 0) {
      ++invalid;
      ++i;
    } else {
      i += static_cast<std::size_t>(len);
    }
  }
  if (invalid > 8 && invalid * 100 > bytes.size()) {
    throw input_error(
        str("input '", name, "': ", invalid, " of ", bytes.size(), " bytes (from byte ", offset,
            ") are not valid UTF-8: looks binary, not text"),
        "convert the file to UTF-8 or leave it out");
  }
}

std::vector<Source> etl_sources_from_paths(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    const auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) throw input_error(str("input '", p, "': no such file or directory"));
    if (fs::is_directory(st)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(p); it != fs::recursive_directory_iterator();
           ++it) {
        const std::string fname = it->path().filename().string();
        if (!fname.empty() && fname[0] == '.') {
          if (it->is_directory()) it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file()) found.push_back(it->path().string());
      }
      if (found.empty()) throw input_error(str("input directory '", p, "' holds no files"));
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(p);
    }
  }
  std::vector<Source> sources;
  for (const auto& f : files) {
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0) throw io_error_errno("cannot stat input", f);
    Source s;
    s.name = f;
    s.size = static_cast<std::uint64_t>(st.st_size);
    s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    s.kind = fs::path(f).extension() == ".jsonl" ? SourceKind::kJsonl : SourceKind::kText;
    if (s.size == 0) {
      throw input_error(str("input '", f, "': file is empty"), "leave empty files out of --input");
    }
    etl_check_text(read_range(f, 0, std::min(s.size, kSampleBytes)), f, 0);
    sources.push_back(std::move(s));
  }
  return sources;
}

std::vector<Source> etl_sources_kjv() {
  // -f: one verse a line; -l100000: never wrap (the default width comes from COLUMNS).
  FILE* pipe = ::popen("bible -f -l100000 'Gen1:1-Rev22:21' 2>/dev/null", "r");
  if (!pipe) throw io_error_errno("cannot run", "bible");
  std::string out;
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = ::pclose(pipe);
  const char* hint = "install the Debian package bible-kjv (apt-get install bible-kjv)";
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw input_error(str("--corpus kjv: the `bible` program failed (exit status ",
                          WIFEXITED(status) ? WEXITSTATUS(status) : -1, ")"),
                      hint);
  }
  // Lines look like "1Sa3:10 And the LORD came, ...": book abbreviation, chapter:verse, text.
  std::vector<Source> books;
  std::string book, text;
  std::string chapter;
  std::size_t verses = 0;
  auto flush = [&] {
    if (book.empty()) return;
    Source s;
    s.name = "kjv:" + book;
    s.kind = SourceKind::kMemory;
    s.size = text.size();
    s.text = std::make_shared<const std::string>(std::move(text));
    books.push_back(std::move(s));
    text.clear();
  };
  std::size_t pos = 0;
  while (pos < out.size()) {
    std::size_t eol = out.find('\n', pos);
    if (eol == std::string::npos) eol = out.size();
    const std::string_view line(out.data() + pos, eol - pos);
    pos = eol + 1;
    if (line.empty()) continue;
    std::size_t i = (line[0] >= '1' && line[0] <= '9') ? 1 : 0;
    while (i < line.size() && std::isalpha(static_cast<unsigned char>(line[i]))) ++i;
    const std::size_t colon = line.find(':', i);
    const std::size_t space = line.find(' ', i);
    if (i == 0 || colon == std::string_view::npos || space == std::string_view::npos ||
        colon > space) {
      throw input_error(
          str("--corpus kjv: unexpected line from `bible`: '", line.substr(0, 60), "'"), hint);
    }
    const std::string this_book(line.substr(0, i));
    const std::string this_chapter(line.substr(i, colon - i));
    if (this_book != book) {
      flush();
      book = this_book;
      chapter = this_chapter;
    } else if (this_chapter != chapter) {
      text += '\n';  // blank line between chapters
      chapter = this_chapter;
    }
    text.append(line.substr(space + 1));
    text += '\n';
    ++verses;
  }
  flush();
  if (books.size() != 66 || verses != 31102) {
    throw input_error(str("--corpus kjv: `bible` printed ", books.size(), " books and ", verses,
                          " verses, expected 66 and 31102"),
                      hint);
  }
  return books;
}

Plan etl_make_plan(std::vector<Source> sources, const PlanSettings& settings) {
  Plan plan;
  plan.sources = std::move(sources);
  plan.settings = settings;
  for (const auto& s : plan.sources) plan.total_bytes += s.size;
  std::uint64_t unit = settings.unit_bytes;
  if (unit == 0) unit = std::clamp<std::uint64_t>(plan.total_bytes / 1024, 64 << 10, 8 << 20);
  plan.settings.unit_bytes = unit;

  for (std::uint32_t si = 0; si < plan.sources.size(); ++si) {
    const Source& s = plan.sources[si];
    std::uint64_t pos = 0;
    while (pos < s.size) {
      std::uint64_t end = s.size;
      if (pos + unit < s.size) {
        end = find_cut(s.kind, pos + unit, s.size, [&](std::uint64_t off, std::uint64_t len) {
          return source_bytes(s, off, len);
        });
      }
      Unit u;
      u.source = si;
      u.begin = pos;
      u.end = end;
      u.lead_eot = pos == 0;
      plan.units.push_back(u);
      pos = end;
    }
  }

  const double f = settings.val_fraction;
  if (f > 0 && plan.units.size() >= 2) {
    bool any = false;
    for (std::size_t i = 0; i < plan.units.size(); ++i) {
      if (std::floor(static_cast<double>(i + 1) * f) > std::floor(static_cast<double>(i) * f)) {
        plan.units[i].split = Split::kVal;
        any = true;
      }
    }
    if (!any) plan.units.back().split = Split::kVal;
  } else if (f > 0) {
    log_warn("the input is one work unit only: no val split (use more input or --val-fraction 0)");
  }
  for (std::size_t i = 1; i < plan.units.size(); ++i) {
    if (plan.units[i].split != plan.units[i - 1].split) plan.units[i].lead_eot = true;
  }
  return plan;
}

std::string etl_read_unit(const Plan& plan, const Unit& unit) {
  return source_bytes(plan.sources[unit.source], unit.begin, unit.end - unit.begin);
}

}  // namespace weft::data
