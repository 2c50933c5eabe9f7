// Parsing of WordNet data.<pos> files (wndb format) into synsets (see
// chat_source_wordnet.hpp).
#include "data/chat_source_wordnet.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace weft::data {

namespace {

// Splits off the next space-separated field of `s`; empty when none is left.
std::string_view next_field(std::string_view& s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  const std::size_t sp = s.find(' ');
  std::string_view f = s.substr(0, sp);
  s = sp == std::string_view::npos ? std::string_view{} : s.substr(sp);
  return f;
}

bool parse_hex(std::string_view f, int& out) {
  if (f.empty() || f.size() > 4) return false;
  int v = 0;
  for (char c : f) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return false;
    v = v * 16 + d;
  }
  out = v;
  return true;
}

// "long_time(a)" -> "long time": underscores become spaces, a syntactic marker
// "(a)", "(p)" or "(ip)" at the end (adjectives) is dropped.
std::string clean_word(std::string_view w) {
  for (std::string_view m : {"(a)", "(p)", "(ip)"})
    if (w.size() > m.size() && w.substr(w.size() - m.size()) == m) w.remove_suffix(m.size());
  std::string out(w);
  for (char& c : out)
    if (c == '_') c = ' ';
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == ';')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

std::vector<WordnetSynset> wordnet_parse(std::string_view text, std::string_view source) {
  std::vector<WordnetSynset> out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (line.empty() || line.substr(0, 2) == "  ") continue;
    auto bad = [&](const char* what) {
      return input_error(str(source, ":", line_no, ": ", what, " in a WordNet synset line \"",
                             line.substr(0, 40), "\" (format: wndb(5WN))"));
    };
    const std::size_t bar = line.find(" | ");
    if (bar == std::string_view::npos) throw bad("no gloss after ' | '");
    std::string_view head = line.substr(0, bar);
    const std::string_view gloss = line.substr(bar + 3);
    WordnetSynset s;
    s.offset = std::string(next_field(head));
    if (s.offset.size() != 8) throw bad("synset_offset is not 8 digits");
    next_field(head);  // lex_filenum
    const std::string_view type = next_field(head);
    if (type.size() != 1 || std::string_view("nvasr").find(type[0]) == std::string_view::npos)
      throw bad("ss_type is not one of n v a s r");
    s.pos = type[0];
    int w_cnt = 0;
    if (!parse_hex(next_field(head), w_cnt) || w_cnt <= 0) throw bad("bad w_cnt");
    for (int k = 0; k < w_cnt; ++k) {
      const std::string_view word = next_field(head);
      int lex_id = 0;
      if (word.empty() || !parse_hex(next_field(head), lex_id)) throw bad("truncated word list");
      s.words.push_back(clean_word(word));
    }
    // Definition: the gloss up to its first quoted example ("; \"").
    std::string_view def = gloss;
    const std::size_t ex = def.find("; \"");
    if (ex != std::string_view::npos) def = def.substr(0, ex);
    if (!def.empty() && def.front() == '"') def = {};  // gloss that is only an example
    s.definition = trim(def);
    if (s.definition.empty()) continue;  // nothing to ask about
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<WordnetSynset> wordnet_read(const std::string& dir) {
  std::vector<WordnetSynset> all;
  for (const char* pos : {"noun", "verb", "adj", "adv"}) {
    const std::filesystem::path p = std::filesystem::path(dir) / str("data.", pos);
    std::ifstream in(p, std::ios::binary);
    if (!in) {
      throw input_error(str("cannot read the WordNet database file ", p.string()),
                        "install the Debian package wordnet-base: apt-get install wordnet-base");
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    std::vector<WordnetSynset> part = wordnet_parse(ss.str(), p.string());
    for (auto& s : part) all.push_back(std::move(s));
  }
  return all;
}

}  // namespace weft::data
