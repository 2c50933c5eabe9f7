// Unicode facts the GPT-2 pre-tokenisation pattern needs: UTF-8 decoding (invalid
// bytes reported as U+FFFD, one byte each) and the class of a code point (letter
// \p{L}, number \p{N}, white space \s, or other). The class table is built once,
// on first use, from the generated ranges in tokenizer_unicode_tables.cpp and is
// read-only afterwards: any thread may call these functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace weft::data::unicode {

struct CodePointRange {
  uint32_t first, last;  // inclusive
};

// Generated data (tools/gen_unicode_tables.py).
extern const char kUnicodeVersion[];
extern const CodePointRange kLetterRanges[];
extern const std::size_t kLetterRanges_count;
extern const CodePointRange kNumberRanges[];
extern const std::size_t kNumberRanges_count;
extern const CodePointRange kSpaceRanges[];
extern const std::size_t kSpaceRanges_count;

enum CharClass : uint8_t { kOther = 0, kLetter = 1, kNumber = 2, kSpace = 3 };

inline constexpr uint32_t kReplacementChar = 0xFFFD;
inline constexpr uint32_t kMaxCodePoint = 0x10FFFF;

// Two-stage lookup: stage1[cp >> 8] names a 256-entry block in stage2.
struct ClassTable {
  const uint16_t* stage1;  // (0x1100,)
  const uint8_t* stage2;   // (n_blocks * 256,)
  CharClass of(uint32_t cp) const {
    return static_cast<CharClass>(
        stage2[(static_cast<uint32_t>(stage1[cp >> 8]) << 8) | (cp & 0xFF)]);
  }
};

// The process-wide table (built on first call; thread-safe).
const ClassTable& class_table();

// Class by searching the range lists directly: the slow oracle for tests.
CharClass char_class_by_ranges(uint32_t cp);

struct Decoded {
  uint32_t cp;   // U+FFFD for an invalid byte
  uint32_t len;  // bytes consumed: 1..4 (1 for an invalid byte)
};

// Decodes the UTF-8 sequence starting at s[i] (i < s.size()). Well-formed means
// RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF, no truncation.
inline Decoded utf8_decode(std::string_view s, std::size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
  const std::size_t left = s.size() - i;
  const unsigned c0 = p[0];
  if (c0 < 0x80) return {c0, 1};
  if (c0 < 0xC2) return {kReplacementChar, 1};  // continuation byte or overlong lead
  if (c0 < 0xE0) {
    if (left < 2 || (p[1] & 0xC0) != 0x80) return {kReplacementChar, 1};
    return {((c0 & 0x1Fu) << 6) | (p[1] & 0x3Fu), 2};
  }
  if (c0 < 0xF0) {
    if (left < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return {kReplacementChar, 1};
    const uint32_t cp = ((c0 & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return {kReplacementChar, 1};
    return {cp, 3};
  }
  if (c0 < 0xF5) {
    if (left < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
      return {kReplacementChar, 1};
    const uint32_t cp =
        ((c0 & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
    if (cp < 0x10000 || cp > kMaxCodePoint) return {kReplacementChar, 1};
    return {cp, 4};
  }
  return {kReplacementChar, 1};
}

}  // namespace weft::data::unicode
