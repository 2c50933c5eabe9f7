// Writing and making of `weft data chat` sets (see chat_data.hpp): JSONL rendering,
// the never-overwrite check, and reading the Debian sources.
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "data/chat_data.hpp"

namespace weft::data {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;  // keys in the documented order

std::string jsonl(const std::vector<ChatExample>& xs, json (*row)(const ChatExample&)) {
  std::string out;
  for (const ChatExample& x : xs) {
    out += row(x).dump();  // dump() escapes control characters; UTF-8 is kept
    out += '\n';
  }
  return out;
}

json sft_row(const ChatExample& x) {
  return {{"messages", json::array({{{"role", "user"}, {"content", x.prompt}},
                                    {{"role", "assistant"}, {"content", x.answer}}})}};
}

json pair_row(const ChatExample& x) {
  return {{"prompt", x.prompt}, {"chosen", x.answer}, {"rejected", x.rejected},
          {"rejected_kind", x.rejected_kind}};
}

json eval_row(const ChatExample& x) {
  return {{"prompt", x.prompt}, {"answer", x.answer}, {"kind", x.kind}, {"item", x.item}};
}

void put(const fs::path& p, const std::string& s) {
  file_write_atomic(p.string(), s.data(), s.size());
}

}  // namespace

std::vector<std::string> chat_data_file_names() {
  return {"sft_train.jsonl",  "sft_test.jsonl",  "pairs_train.jsonl", "pairs_test.jsonl",
          "eval_train.jsonl", "eval_test.jsonl", "info.json"};
}

void chat_data_write(const ChatDataSet& set, const std::string& dir, const std::string& info_json) {
  const fs::path d(dir);
  for (const std::string& name : chat_data_file_names()) {
    if (fs::exists(d / name)) {
      throw input_error(str((d / name).string(), " already exists; not overwriting it"),
                        "choose another --out directory or delete the old files");
    }
  }
  std::error_code ec;
  fs::create_directories(d, ec);
  if (ec) throw io_error(str("cannot create directory ", dir, ": ", ec.message()));
  put(d / "sft_train.jsonl", jsonl(set.train, sft_row));
  put(d / "sft_test.jsonl", jsonl(set.test, sft_row));
  put(d / "pairs_train.jsonl", jsonl(set.train, pair_row));
  put(d / "pairs_test.jsonl", jsonl(set.test, pair_row));
  put(d / "eval_train.jsonl", jsonl(set.train, eval_row));
  put(d / "eval_test.jsonl", jsonl(set.test, eval_row));
  put(d / "info.json", info_json);  // last: its presence marks a complete set
}

ChatDataSet chat_data_make(const ChatDataOptions& o) {
  if (o.out_dir.empty()) throw input_error("weft data chat: --out DIR is required");
  // Check the output first so a bad --out fails before the sources are read.
  for (const std::string& name : chat_data_file_names()) {
    if (fs::exists(fs::path(o.out_dir) / name)) {
      throw input_error(
          str((fs::path(o.out_dir) / name).string(), " already exists; not overwriting it"),
          "choose another --out directory or delete the old files");
    }
  }
  std::vector<KjvVerse> verses;
  std::vector<WordnetSynset> synsets;
  if (o.source != ChatDataSource::kWordnet) verses = kjv_read_bible(o.bible_program);
  if (o.source != ChatDataSource::kKjv) synsets = wordnet_read(o.wordnet_dir);
  ChatDataSet set = chat_data_build(verses, synsets, o.build);
  if (set.train.empty())
    throw input_error("weft data chat: no examples were built (raise --max-examples)");
  const char* src = o.source == ChatDataSource::kKjv       ? "kjv"
                    : o.source == ChatDataSource::kWordnet ? "wordnet"
                                                           : "both";
  const json info = {{"format", "weft-chat-data"},
                     {"version", 1},
                     {"source", src},
                     {"seed", o.build.seed},
                     {"test_fraction", o.build.test_fraction},
                     {"max_examples", o.build.max_examples},
                     {"train_examples", set.train.size()},
                     {"test_examples", set.test.size()}};
  chat_data_write(set, o.out_dir, info.dump(2) + "\n");
  return set;
}

}  // namespace weft::data
