// Parsing of `bible -f` output into verses (see chat_source_kjv.hpp).
#include "data/chat_source_kjv.hpp"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <utility>

#include "core/error.hpp"

namespace weft::data {

namespace {

// `bible` (bible-kjv 4.38) abbreviations in canonical order, with English names.
constexpr std::array<std::pair<std::string_view, std::string_view>, 66> kBooks = {{
    {"Ge", "Genesis"},          {"Exo", "Exodus"},
    {"Lev", "Leviticus"},       {"Num", "Numbers"},
    {"Deu", "Deuteronomy"},     {"Josh", "Joshua"},
    {"Jdgs", "Judges"},         {"Ruth", "Ruth"},
    {"1Sm", "1 Samuel"},        {"2Sm", "2 Samuel"},
    {"1Ki", "1 Kings"},         {"2Ki", "2 Kings"},
    {"1Chr", "1 Chronicles"},   {"2Chr", "2 Chronicles"},
    {"Ezra", "Ezra"},           {"Neh", "Nehemiah"},
    {"Est", "Esther"},          {"Job", "Job"},
    {"Psa", "Psalms"},          {"Prv", "Proverbs"},
    {"Eccl", "Ecclesiastes"},   {"SSol", "Song of Solomon"},
    {"Isa", "Isaiah"},          {"Jer", "Jeremiah"},
    {"Lam", "Lamentations"},    {"Eze", "Ezekiel"},
    {"Dan", "Daniel"},          {"Hos", "Hosea"},
    {"Joel", "Joel"},           {"Amos", "Amos"},
    {"Obad", "Obadiah"},        {"Jonah", "Jonah"},
    {"Mic", "Micah"},           {"Nahum", "Nahum"},
    {"Hab", "Habakkuk"},        {"Zep", "Zephaniah"},
    {"Hag", "Haggai"},          {"Zec", "Zechariah"},
    {"Mal", "Malachi"},         {"Mat", "Matthew"},
    {"Mark", "Mark"},           {"Luke", "Luke"},
    {"John", "John"},           {"Acts", "Acts"},
    {"Rom", "Romans"},          {"1Cor", "1 Corinthians"},
    {"2Cor", "2 Corinthians"},  {"Gal", "Galatians"},
    {"Eph", "Ephesians"},       {"Phi", "Philippians"},
    {"Col", "Colossians"},      {"1Th", "1 Thessalonians"},
    {"2Th", "2 Thessalonians"}, {"1Tim", "1 Timothy"},
    {"2Tim", "2 Timothy"},      {"Titus", "Titus"},
    {"Phmn", "Philemon"},       {"Heb", "Hebrews"},
    {"Jas", "James"},           {"1Pet", "1 Peter"},
    {"2Pet", "2 Peter"},        {"1Jn", "1 John"},
    {"2Jn", "2 John"},          {"3Jn", "3 John"},
    {"Jude", "Jude"},           {"Rev", "Revelation"},
}};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads a positive decimal number at s[i...]; -1 if none.
int read_number(std::string_view s, std::size_t& i) {
  const std::size_t start = i;
  long v = 0;
  while (i < s.size() && is_digit(s[i]) && i - start < 6) v = v * 10 + (s[i++] - '0');
  return i == start ? -1 : static_cast<int>(v);
}

}  // namespace

std::string KjvVerse::reference() const {
  return str(book, " ", chapter, ":", verse);
}

std::string kjv_book_name(std::string_view abbrev) {
  for (const auto& [a, name] : kBooks)
    if (a == abbrev) return std::string(name);
  throw input_error(str("unknown bible book abbreviation \"", abbrev, "\""));
}

std::vector<KjvVerse> kjv_parse(std::string_view text, std::string_view source) {
  std::vector<KjvVerse> out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    auto bad = [&](const char* what) {
      return input_error(str(source, ":", line_no, ": ", what, " in \"", line.substr(0, 40),
                             "\" (expected e.g. \"Ge1:3 And God said...\")"));
    };
    // Book abbreviation: an optional leading digit, then letters.
    std::size_t i = 0;
    if (i < line.size() && is_digit(line[i])) ++i;
    while (i < line.size() && !is_digit(line[i]) && line[i] != ' ') ++i;
    if (i == 0 || i == line.size() || !is_digit(line[i])) throw bad("no book/chapter reference");
    KjvVerse v;
    try {
      v.book = kjv_book_name(line.substr(0, i));
    } catch (const Error&) {
      throw bad("unknown book abbreviation");
    }
    v.chapter = read_number(line, i);
    if (i >= line.size() || line[i] != ':') throw bad("no ':' after the chapter");
    ++i;
    v.verse = read_number(line, i);
    if (v.chapter <= 0 || v.verse <= 0) throw bad("bad chapter:verse");
    if (i >= line.size() || line[i] != ' ') throw bad("no space after the reference");
    std::string_view body = line.substr(i + 1);
    while (!body.empty() && body.back() == ' ') body.remove_suffix(1);
    while (!body.empty() && body.front() == ' ') body.remove_prefix(1);
    if (body.empty()) throw bad("empty verse text");
    v.text = std::string(body);
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<KjvVerse> kjv_read_bible(const std::string& program) {
  const std::string cmd = str(program, " -f \"Gen1:1-Rev22:21\" 2>/dev/null");
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) throw io_error_errno("popen", program);
  std::string text;
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  const int status = ::pclose(f);
  const bool ok = status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!ok || text.empty()) {
    throw input_error(str("could not run the King James Bible program \"", program,
                          "\" (exit status ", status == -1 ? -1 : WEXITSTATUS(status), ")"),
                      "install the Debian package bible-kjv: apt-get install bible-kjv");
  }
  std::vector<KjvVerse> verses = kjv_parse(text, str("output of '", program, " -f'"));
  if (verses.size() < 1000) {
    throw input_error(str("'", program, " -f' printed only ", verses.size(), " verses"),
                      "reinstall the Debian package bible-kjv (and bible-kjv-text)");
  }
  return verses;
}

}  // namespace weft::data
