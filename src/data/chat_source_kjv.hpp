// The King James Bible as verse records, from the output of Debian bible-kjv's
// `bible -f "Gen1:1-Rev22:21"` (one verse a line: "Ge1:3 And God said, ...").
// Returns values the caller owns; pure functions except kjv_read_bible, which runs
// the `bible` program. Any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace weft::data {

struct KjvVerse {
  std::string book;  // full English name, e.g. "Genesis", "1 Samuel"
  int chapter = 0;
  int verse = 0;
  std::string text;
  std::string reference() const;  // "Genesis 1:3"
};

// Full book name for a `bible` abbreviation ("Ge" -> "Genesis"); throws weft::Error
// (input) for an unknown abbreviation.
std::string kjv_book_name(std::string_view abbrev);

// Parses `bible -f` output. `source` names the input in errors (with the line number).
std::vector<KjvVerse> kjv_parse(std::string_view text, std::string_view source);

// Runs `bible -f "Gen1:1-Rev22:21"` (program name overridable for tests) and parses it.
// Throws weft::Error (input) naming the Debian package bible-kjv if it is missing.
std::vector<KjvVerse> kjv_read_bible(const std::string& program = "bible");

}  // namespace weft::data
