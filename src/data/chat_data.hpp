// `weft data chat`: SFT conversations, preference pairs and eval prompts built from
// the King James Bible (quote / finish / locate a verse) and WordNet (define a word),
// split by item (a verse, a synset) into train and test so no test item is ever seen
// in training. chat_data_build is pure and deterministic for a seed; chat_data_make
// reads the Debian sources and writes the files. Any thread. Formats: docs/formats.md
// "Chat data".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/chat_source_kjv.hpp"
#include "data/chat_source_wordnet.hpp"

namespace weft::data {

enum class ChatDataSource { kKjv, kWordnet, kBoth };
// "kjv" / "wordnet" / "both"; throws weft::Error (input) for anything else.
ChatDataSource chat_data_source_parse(const std::string& name);

// One question with its reference answer and a plausible wrong answer.
struct ChatExample {
  std::string item;      // what the split is by: "kjv:Genesis 1:3", "wordnet:n00001740"
  std::string kind;      // quote | finish | where | define
  std::string prompt;    // the user's message
  std::string answer;    // the assistant's reply (chosen)
  std::string rejected;  // a wrong answer of kind rejected_kind (data/chat_rejected.hpp)
  std::string rejected_kind;  // neighbour | other | loop | truncated
};

struct ChatDataSet {
  std::vector<ChatExample> train;
  std::vector<ChatExample> test;
};

struct ChatDataBuildOptions {
  std::uint64_t seed = 1;
  double test_fraction = 0.1;       // of the items (verses, synsets)
  std::size_t max_examples = 3000;  // conversations, train + test together
};

// Builds the examples from the given sources (either may be empty). Items are drawn
// at random (seeded); the first test_fraction of drawn items form the test split.
// Rejected answers of train examples never come from test items.
ChatDataSet chat_data_build(const std::vector<KjvVerse>& verses,
                            const std::vector<WordnetSynset>& synsets,
                            const ChatDataBuildOptions& o);

struct ChatDataOptions {
  ChatDataSource source = ChatDataSource::kBoth;
  std::string out_dir;
  ChatDataBuildOptions build;
  std::string bible_program = "bible";
  std::string wordnet_dir = "/usr/share/wordnet";
};

// The files chat_data_write creates in the output directory.
std::vector<std::string> chat_data_file_names();

// Writes the set as JSONL files (and info.json) into `dir`, creating it. Throws
// weft::Error (input) without writing anything if one of the files already exists.
void chat_data_write(const ChatDataSet& set, const std::string& dir, const std::string& info_json);

// Reads the sources named in `o`, builds and writes. Returns the set written.
ChatDataSet chat_data_make(const ChatDataOptions& o);

}  // namespace weft::data
