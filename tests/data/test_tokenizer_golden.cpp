// Exactness against tiktoken: weft's GPT-2 ids must equal the golden ids that
// tools/make_tokenizer_golden.mjs wrote with the npm package tiktoken (`gpt2`,
// encode_ordinary) for the KJV Bible, Debian's fortunes and the adversarial text.
// Inputs are re-read from the system (bible-kjv, fortunes) and checked by SHA-256.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "tokenizer_test_util.hpp"

namespace weft::data {
namespace {

const std::filesystem::path kGoldenDir = WEFT_FIXTURES_DIR "/tokenizer/golden";

struct GoldenInput {
  std::string name, source, sha256;
  std::size_t n_tokens;
};

std::vector<GoldenInput> golden_index() {
  const auto j = nlohmann::json::parse(test::read_all(kGoldenDir / "index.json"));
  std::vector<GoldenInput> out;
  for (const auto& f : j["files"])
    out.push_back({f["name"], f["source"], f["input_sha256"], f["n_tokens"]});
  return out;
}

// The input text as the golden tool read it; empty + reason if it is not available.
std::string golden_text(const GoldenInput& g, std::string* why_missing) {
  if (g.source.starts_with("bible ")) {
    int status = -1;
    std::string text = test::run_capture(g.source + " 2>/dev/null", &status);
    if (status != 0 || text.empty())
      *why_missing = "`bible` not installed (apt-get install bible-kjv)";
    return text;
  }
  std::filesystem::path p = g.source;
  if (p.is_relative()) p = std::filesystem::path(WEFT_SOURCE_DIR) / p;
  if (!std::filesystem::exists(p))
    *why_missing = p.string() + " missing (apt-get install fortunes)";
  return test::read_all(p);
}

std::vector<uint32_t> golden_ids(const std::string& name) {
  const std::string raw = test::read_all(kGoldenDir / (name + ".u16"));
  std::vector<uint32_t> ids(raw.size() / 2);
  for (std::size_t i = 0; i < ids.size(); ++i)
    ids[i] = static_cast<uint8_t>(raw[2 * i]) |
             (static_cast<uint32_t>(static_cast<uint8_t>(raw[2 * i + 1])) << 8);
  return ids;
}

std::string show_ids(const Tokenizer& tok, const std::vector<uint32_t>& ids, std::size_t from,
                     std::size_t to) {
  std::string s;
  for (std::size_t i = from; i < std::min(to, ids.size()); ++i)
    s += str(ids[i], "'", tok.decode(std::span(&ids[i], 1)), "' ");
  return s;
}

// Compares one golden file; returns false (with a message naming the first mismatch).
void check_golden(const GoldenInput& g) {
  SCOPED_TRACE(g.name);
  std::string why;
  const std::string text = golden_text(g, &why);
  if (!why.empty()) GTEST_SKIP() << why;
  ASSERT_EQ(sha256_hex(text), g.sha256)
      << g.source << " differs from the input the goldens were made from; "
      << "regenerate with node tools/make_tokenizer_golden.mjs";
  const Tokenizer& tok = test::gpt2_tokenizer();
  const std::vector<uint32_t> want = golden_ids(g.name);
  ASSERT_EQ(want.size(), g.n_tokens);
  const std::vector<uint32_t> got = tok.encode(text);
  const auto [gi, wi] = std::mismatch(got.begin(), got.end(), want.begin(), want.end());
  if (gi != got.end() || wi != want.end()) {
    const std::size_t at = static_cast<std::size_t>(gi - got.begin());
    const std::size_t from = at >= 5 ? at - 5 : 0;
    FAIL() << g.name << ": first mismatch at token " << at << " (weft " << got.size()
           << " tokens, tiktoken " << want.size()
           << ")\n  weft:     " << show_ids(tok, got, from, at + 6)
           << "\n  tiktoken: " << show_ids(tok, want, from, at + 6);
  }
  EXPECT_EQ(tok.decode(got), text);
}

TEST(TokenizerGolden, KjvBibleMatchesTiktoken) {
  for (const auto& g : golden_index())
    if (g.name == "kjv") return check_golden(g);
  FAIL() << "no kjv entry in " << kGoldenDir;
}

TEST(TokenizerGolden, FortunesMatchTiktoken) {
  int n = 0;
  for (const auto& g : golden_index())
    if (g.name.starts_with("fortunes_")) {
      check_golden(g);
      ++n;
    }
  EXPECT_GT(n, 10);
}

TEST(TokenizerGolden, AdversarialTextMatchesTiktoken) {
  for (const auto& g : golden_index())
    if (g.name == "adversarial") return check_golden(g);
  FAIL() << "no adversarial entry in " << kGoldenDir;
}

}  // namespace
}  // namespace weft::data
