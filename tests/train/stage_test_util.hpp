// Helpers for the fine-tuning stage tests (sft, reward): a small trained tokenizer, a
// random tiny base model saved as an llm.c checkpoint, and JSONL writers. Every file
// goes under a fresh directory the caller names. Header-only (tests glob test_*.cpp).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/tokenizer.hpp"
#include "model/gpt_model.hpp"
#include "model/llmc_checkpoint.hpp"

namespace weft::stage_test {

namespace fs = std::filesystem;

inline const std::vector<std::string>& words() {
  static const std::vector<std::string> w = {"apple", "river", "stone", "cloud", "green",
                                             "light", "north", "table", "water", "sound",
                                             "yes",   "bread", "horse", "night", "paper"};
  return w;
}

// tok.json trained on the words and the prompts used by the tests.
inline std::string make_tokenizer(const fs::path& dir) {
  std::string corpus = "Say the word. Repeat after me: Pick the better reply. ";
  for (const auto& w : words()) corpus += w + " " + w + ". ";
  std::vector<std::string_view> texts(10, corpus);
  data::TokenizerTrainOptions to;
  to.vocab_size = 330;
  to.progress = false;
  to.threads = 1;
  const data::Tokenizer tok = data::tokenizer_train(texts, to);
  const fs::path p = dir / "tok.json";
  tok.save(p);
  return p.string();
}

inline model::GptConfig tiny_config(int vocab, int max_seq = 64) {
  model::GptConfig c;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 32;
  c.vocab = vocab;
  c.padded_vocab = model::pad_vocab(vocab);
  c.max_seq = max_seq;
  return c;
}

// A randomly initialised base model, saved as dir/base.bin.
inline std::string make_base_model(const fs::path& dir, int vocab, std::uint64_t seed = 3) {
  const model::GptConfig c = tiny_config(vocab);
  model::GptModel m(c, 1, 8, /*training=*/false);
  m.init_weights(seed);
  const fs::path p = dir / "base.bin";
  model::llmc_save_model(p.string(), c, m.params());
  return p.string();
}

inline void write_lines(const fs::path& p, const std::vector<nlohmann::json>& rows) {
  std::ofstream out(p);
  for (const auto& r : rows) out << r.dump() << '\n';
}

inline nlohmann::json conversation(const std::string& user, const std::string& assistant) {
  return {{"messages",
           {{{"role", "user"}, {"content", user}}, {{"role", "assistant"}, {"content", assistant}}}}};
}

// The SFT conversations of the tests: "Say the word W." → "W W.", one per word.
inline void write_sft_jsonl(const fs::path& p) {
  std::vector<nlohmann::json> rows;
  for (const std::string& w : words()) rows.push_back(conversation("Say the word " + w + ".", w + " " + w + "."));
  write_lines(p, rows);
}

// Pairs whose chosen reply contains "yes" and whose rejected reply does not; the other
// words are random, so only that token separates them.
inline void write_pairs(const fs::path& p, int n, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<nlohmann::json> rows;
  auto word = [&] {
    std::string w;
    do w = words()[gen() % words().size()];
    while (w == "yes");
    return w;
  };
  for (int i = 0; i < n; ++i) {
    const std::string a = word(), b = word(), c = word();
    const int where = static_cast<int>(gen() % 3);
    const std::string chosen =
        where == 0 ? "yes " + a + " " + b : where == 1 ? a + " yes " + b : a + " " + b + " yes";
    rows.push_back({{"prompt", "Pick the better reply."},
                    {"chosen", chosen},
                    {"rejected", a + " " + b + " " + c}});
  }
  write_lines(p, rows);
}

inline fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::path(::testing::TempDir()) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace weft::stage_test
