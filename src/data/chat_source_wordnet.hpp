// WordNet synsets from the database files of Debian wordnet-base
// (/usr/share/wordnet/data.{noun,verb,adj,adv}, format wndb(5WN)): the words of each
// synset and its definition (the gloss before its quoted examples). Returns values
// the caller owns; pure functions except wordnet_read, which reads files. Any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace weft::data {

struct WordnetSynset {
  std::string offset;              // synset_offset, 8 digits, unique within one pos
  char pos = 'n';                  // ss_type: n v a s r
  std::vector<std::string> words;  // lemmas, '_' turned into ' ', adjective markers dropped
  std::string definition;          // gloss up to the first "; \"" (examples cut)
};

// Parses one data.<pos> file. Lines starting with two spaces (licence header) are
// skipped. `source` names the file in errors (with the line number).
std::vector<WordnetSynset> wordnet_parse(std::string_view text, std::string_view source);

// Reads and parses data.noun, data.verb, data.adj, data.adv under `dir`. Throws
// weft::Error (input) naming the missing file and the Debian package wordnet-base.
std::vector<WordnetSynset> wordnet_read(const std::string& dir = "/usr/share/wordnet");

}  // namespace weft::data
