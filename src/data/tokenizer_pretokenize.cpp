// GPT-2 pre-tokenisation matcher. The pattern's alternatives are tried in order at
// each position, exactly as a backtracking regex engine (tiktoken's fancy-regex) does;
// `\s+(?!\S)` followed by a non-space gives back its last space, so that space can
// lead the next word (" world").
#include "data/tokenizer_pretokenize.hpp"

#include <algorithm>

#include "data/tokenizer.hpp"

namespace weft::data {
namespace {

using unicode::CharClass;

// ASCII classes without a table walk (the common case).
constexpr CharClass ascii_class(unsigned char c) {
  if (c == ' ' || (c >= 9 && c <= 13)) return unicode::kSpace;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return unicode::kLetter;
  if (c >= '0' && c <= '9') return unicode::kNumber;
  return unicode::kOther;
}

struct AsciiTable {
  CharClass cls[128];
  constexpr AsciiTable() : cls{} {
    for (int c = 0; c < 128; ++c) cls[c] = ascii_class(static_cast<unsigned char>(c));
  }
};
constexpr AsciiTable kAscii;

struct ClassAt {
  CharClass cls;
  uint32_t len;
};

inline ClassAt class_at(std::string_view s, std::size_t i, const unicode::ClassTable& classes) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return {kAscii.cls[c], 1};
  const unicode::Decoded d = unicode::utf8_decode(s, i);
  return {classes.of(d.cp), d.len};
}

// End of the run of code points of class `cls` starting at `pos`.
inline std::size_t run_end(std::string_view s, std::size_t pos, CharClass cls,
                           const unicode::ClassTable& classes) {
  while (pos < s.size()) {
    const auto c = static_cast<unsigned char>(s[pos]);
    if (c < 0x80) {
      if (kAscii.cls[c] != cls) break;
      ++pos;
      continue;
    }
    const ClassAt ca = class_at(s, pos, classes);
    if (ca.cls != cls) break;
    pos += ca.len;
  }
  return pos;
}

// Length of a contraction ('s 't 're 've 'm 'll 'd, lower case only) at s[pos] == '\''.
inline std::size_t contraction_len(std::string_view s, std::size_t pos) {
  if (pos + 1 >= s.size()) return 0;
  const char a = s[pos + 1];
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (pos + 2 >= s.size()) return 0;
  const char b = s[pos + 2];
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

}  // namespace

std::size_t pretokenize_next(std::string_view s, std::size_t pos,
                             const unicode::ClassTable& classes) {
  const std::size_t n = s.size();
  if (s[pos] == '\'') {
    if (const std::size_t len = contraction_len(s, pos)) return pos + len;
  }
  const ClassAt first = class_at(s, pos, classes);
  if (first.cls != unicode::kSpace) return run_end(s, pos + first.len, first.cls, classes);

  // ` ?X+` where X is letter, number or other: a single ASCII space may lead it.
  if (s[pos] == ' ' && pos + 1 < n) {
    const ClassAt next = class_at(s, pos + 1, classes);
    if (next.cls != unicode::kSpace) return run_end(s, pos + 1 + next.len, next.cls, classes);
  }
  // `\s+(?!\S)|\s+`: the whole run at the end of text; otherwise all but the last
  // space of a run of two or more; a single space alone.
  std::size_t end = pos + first.len;
  std::size_t last_start = pos;
  std::size_t count = 1;
  while (end < n) {
    const ClassAt ca = class_at(s, end, classes);
    if (ca.cls != unicode::kSpace) break;
    last_start = end;
    end += ca.len;
    ++count;
  }
  if (end == n || count == 1) return end;
  return last_start;
}

std::vector<std::string_view> tokenizer_split_text(std::string_view s, std::size_t target_bytes) {
  // Cut between "X\n" and "Y" with X and Y ASCII non-space: the whole text then has
  // "\n" as a one-character space run followed by a non-space, which the pattern makes
  // a piece of its own, exactly as it does at the end of a part. (A longer space run
  // would keep its last space apart only when a non-space follows, so no cut there.)
  auto safe = [&](std::size_t cut) {
    if (cut < 2 || s[cut - 1] != '\n') return false;
    const auto x = static_cast<unsigned char>(s[cut - 2]);
    const auto y = static_cast<unsigned char>(s[cut]);
    return x < 0x80 && y < 0x80 && kAscii.cls[x] != unicode::kSpace &&
           kAscii.cls[y] != unicode::kSpace;
  };
  std::vector<std::string_view> parts;
  std::size_t begin = 0;
  while (begin < s.size()) {
    std::size_t cut = std::min(s.size(), begin + std::max<std::size_t>(target_bytes, 1));
    while (cut < s.size() && !safe(cut)) ++cut;
    parts.push_back(s.substr(begin, cut - begin));
    begin = cut;
  }
  return parts;
}

std::vector<std::string_view> pretokenize(std::string_view text) {
  std::vector<std::string_view> pieces;
  pretokenize_each(text, [&](std::string_view piece) { pieces.push_back(piece); });
  return pieces;
}

}  // namespace weft::data
