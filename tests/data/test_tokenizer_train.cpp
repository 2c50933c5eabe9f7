// BPE training tests: a hand-worked example (counts and tie-breaking), equality with
// a naive trainer that recounts every pair after each merge, determinism across
// thread counts, train → save → load → encode/decode round trips, and the CLI.
#include <gtest/gtest.h>

#include <map>
#include <unordered_map>

#include "core/error.hpp"
#include "data/tokenizer_pretokenize.hpp"
#include "tokenizer_test_util.hpp"

namespace weft::data {
namespace {

std::vector<std::string> mergeable_tokens(const Tokenizer& tok) {
  std::vector<std::string> out;
  for (uint32_t id = 0; id < tok.n_mergeable(); ++id) out.emplace_back(tok.token_bytes(id));
  return out;
}

Tokenizer train(std::vector<std::string_view> texts, uint32_t vocab, int threads = 1) {
  return tokenizer_train(texts, {vocab, threads, false});
}

TEST(TokenizerTrain, HandWorkedExample) {
  // "aaabdaaabac": aa occurs 4 times → 256; then (a,b) and (256,a) both occur twice and
  // the smaller id pair (97,98) wins → 257 "ab"; then (256,257) twice → 258 "aaab".
  const Tokenizer tok = train({"aaabdaaabac"}, 256 + 3 + kNumSpecialTokens);
  ASSERT_EQ(tok.n_mergeable(), 259u);
  EXPECT_EQ(tok.token_bytes(65), "A");  // trained vocabularies keep bytes in byte order
  EXPECT_EQ(tok.token_bytes(256), "aa");
  EXPECT_EQ(tok.token_bytes(257), "ab");
  EXPECT_EQ(tok.token_bytes(258), "aaab");
  EXPECT_EQ(tok.eot_id(), 259u);
  EXPECT_EQ(tok.encode("aaabdaaabac"), (std::vector<uint32_t>{258, 'd', 258, 'a', 'c'}));
}

// Reference: recount all pairs of all words after every merge (slow, obviously right).
std::vector<std::string> naive_train(std::string_view text, std::size_t n_tokens) {
  std::map<std::string, int64_t> counts;
  pretokenize_each(text, [&](std::string_view p) { ++counts[std::string(p)]; });
  std::vector<std::pair<std::vector<uint32_t>, int64_t>> words;
  for (const auto& [w, n] : counts) words.push_back({std::vector<uint32_t>(w.begin(), w.end()), n});
  for (auto& [syms, n] : words)
    for (auto& s : syms) s &= 0xFF;  // chars were sign-extended
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.emplace_back(1, static_cast<char>(b));
  while (tokens.size() < n_tokens) {
    std::unordered_map<uint64_t, int64_t> pairs;
    for (const auto& [syms, n] : words)
      for (std::size_t i = 0; i + 1 < syms.size(); ++i)
        pairs[(uint64_t{syms[i]} << 32) | syms[i + 1]] += n;
    uint64_t best_key = 0;
    int64_t best_n = 0;
    for (const auto& [key, n] : pairs)  // most frequent; ties → smallest (left, right)
      if (n > best_n || (n == best_n && key < best_key)) {
        best_n = n;
        best_key = key;
      }
    const std::pair<uint32_t, uint32_t> best{static_cast<uint32_t>(best_key >> 32),
                                             static_cast<uint32_t>(best_key)};
    if (best_n == 0) break;
    const std::string bytes = tokens[best.first] + tokens[best.second];
    uint32_t z =
        static_cast<uint32_t>(std::find(tokens.begin(), tokens.end(), bytes) - tokens.begin());
    if (z == tokens.size()) tokens.push_back(bytes);
    for (auto& [syms, n] : words) {
      std::vector<uint32_t> out;
      for (std::size_t i = 0; i < syms.size(); ++i) {
        if (i + 1 < syms.size() && syms[i] == best.first && syms[i + 1] == best.second) {
          out.push_back(z);
          ++i;
        } else {
          out.push_back(syms[i]);
        }
      }
      syms = std::move(out);
    }
  }
  return tokens;
}

std::string fortunes_corpus() {
  std::string text;
  for (const char* f : {"computers", "cookie", "definitions", "people", "songs-poems"}) {
    text += test::read_all(std::string("/usr/share/games/fortunes/") + f);
  }
  return text;
}

TEST(TokenizerTrain, EqualsNaiveRecountTrainer) {
  // Over 1 MB, so pre-token counting runs in several chunks.
  std::string text = fortunes_corpus();
  if (text.size() < (1u << 20)) GTEST_SKIP() << "fortunes not installed (apt-get install fortunes)";
  text += test::read_all(WEFT_FIXTURES_DIR "/tokenizer/adversarial.txt");
  const std::size_t n_tokens = 256 + 250;
  const auto want = naive_train(text, n_tokens);
  const Tokenizer tok = train({text}, static_cast<uint32_t>(n_tokens + kNumSpecialTokens), 2);
  const auto got = mergeable_tokens(tok);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i]) << "token " << i;
}

TEST(TokenizerTrain, DeterministicAcrossThreadCounts) {
  std::string text =
      fortunes_corpus() + test::read_all(WEFT_FIXTURES_DIR "/tokenizer/adversarial.txt");
  const Tokenizer a = train({text, "second text"}, 2048, 1);
  const Tokenizer b = train({text, "second text"}, 2048, 2);
  const Tokenizer c = train({text, "second text"}, 2048, 2);
  EXPECT_EQ(mergeable_tokens(a), mergeable_tokens(b));
  EXPECT_EQ(a.content_hash(), c.content_hash());
}

TEST(TokenizerTrain, TrainSaveLoadRoundTrip) {
  const std::string text = test::read_all(WEFT_FIXTURES_DIR "/tokenizer/adversarial.txt");
  const Tokenizer tok = train({text}, 1024);
  EXPECT_EQ(tok.vocab_size(), 1024u);
  EXPECT_EQ(tok.decode(tok.encode(text)), text);
  EXPECT_LT(tok.encode(text).size(), text.size() / 2);  // it did learn something
  const std::string invalid = "\xFF\xFE ok \xC3 \xED\xA0\x80 end";
  EXPECT_EQ(tok.decode(tok.encode(invalid)), invalid);
  test::TempDir dir;
  tok.save(dir.path / "tok.json");
  const Tokenizer back = Tokenizer::load(dir.path / "tok.json");
  EXPECT_EQ(back.encode(text), tok.encode(text));
  EXPECT_EQ(back.content_hash(), tok.content_hash());
}

TEST(TokenizerTrain, TooSmallVocabIsAnError) {
  EXPECT_THROW(train({"abc"}, 100), Error);
}

TEST(TokenizerCli, TrainEncodeDecodeThroughPipes) {
  test::TempDir dir;
  const std::string corpus = (dir.path / "corpus.txt").string();
  const std::string text = test::read_all(WEFT_FIXTURES_DIR "/tokenizer/adversarial.txt");
  test::write_all(corpus, text);
  const std::string exe = WEFT_EXE;
  const std::string tok = (dir.path / "tok.json").string();
  int rc = -1;
  test::run_capture(exe + " tokenizer train --quiet --input " + corpus +
                        " --vocab-size 600 --out " + tok + " 2>&1",
                    &rc);
  ASSERT_EQ(rc, 0);
  // Refuses to overwrite without --force, and leaves the file as it was.
  const std::string before = test::read_all(tok);
  test::run_capture(exe + " tokenizer train --quiet --input " + corpus +
                        " --vocab-size 700 --out " + tok + " 2>&1",
                    &rc);
  EXPECT_NE(rc, 0);
  EXPECT_EQ(test::read_all(tok), before);

  for (const char* fmt : {"text", "u16", "u32"}) {
    const std::string back = test::run_capture(
        exe + " tokenizer encode --tokenizer " + tok + " --format " + fmt + " < " + corpus + " | " +
            exe + " tokenizer decode --tokenizer " + tok + " --format " + fmt,
        &rc);
    EXPECT_EQ(rc, 0) << fmt;
    EXPECT_EQ(back, text) << fmt;
  }
  // GPT-2 through the CLI gives the library's ids.
  const std::string ids =
      test::run_capture("printf 'Hello world' | " + exe + " tokenizer encode", &rc);
  EXPECT_EQ(ids, "15496 995\n");
  test::run_capture("echo '1 2 x' | " + exe + " tokenizer decode 2>/dev/null", &rc);
  EXPECT_NE(rc, 0);
}

}  // namespace
}  // namespace weft::data
