// End to end with GPT-2's real tokenizer: the ids `weft data prepare` writes, cut
// into many small units and tokenized by 2 worker processes, equal tiktoken's
// encoding of each whole file (golden files made by the tokenizer's tools/ script),
// with <|endoftext|> before each document. Plus the CLI: exit codes and messages.
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "data/checksum.hpp"
#include "data/etl_prepare.hpp"
#include "data/shard_file.hpp"
#include "data/tokenizer_encoder.hpp"
#include "data_test_util.hpp"

namespace weft::data {
namespace {

using namespace weft::data::testing;

const std::string kFixtures = WEFT_FIXTURES_DIR;

std::vector<std::uint16_t> golden(const std::string& name) {
  const std::string bytes = read_file(kFixtures + "/tokenizer/golden/" + name + ".u16");
  std::vector<std::uint16_t> ids(bytes.size() / 2);
  std::memcpy(ids.data(), bytes.data(), ids.size() * 2);
  return ids;
}

TEST(DataEtlGpt2, ShardsEqualTiktokenOnWholeFiles) {
  TempDir dir;
  // name in golden/index.json → its source text.
  std::vector<std::pair<std::string, std::string>> docs = {
      {"adversarial", kFixtures + "/tokenizer/adversarial.txt"},
      {"fortunes_computers", "/usr/share/games/fortunes/computers"},
      {"fortunes_debian", "/usr/share/games/fortunes/debian"}};
  const auto index = nlohmann::json::parse(read_file(kFixtures + "/tokenizer/golden/index.json"));
  std::vector<std::uint16_t> expect;
  int n = 0;
  for (const auto& [name, src] : docs) {
    const std::string text = read_file(src);
    bool matches = false;
    for (const auto& f : index["files"]) {
      matches |= f["name"] == name && f["input_sha256"] == sha256_hex(text);
    }
    if (text.empty() || !matches) continue;  // fortunes not installed, or another version
    write_file(dir / ("in/" + std::to_string(n++) + "_" + name + ".txt"), text);
    expect.push_back(50256);
    const auto g = golden(name);
    expect.insert(expect.end(), g.begin(), g.end());
  }
  ASSERT_GE(n, 1);
  std::printf("comparing %d files against tiktoken goldens\n", n);
  TokenizerEncoder enc(
      Tokenizer::load_gpt2(kFixtures + "/gpt2/encoder.json", kFixtures + "/gpt2/vocab.bpe"),
      "gpt2");
  PrepareOptions o;
  o.out_dir = dir / "out";
  o.workers = 2;
  o.shard_tokens = 10007;
  o.plan.unit_bytes = 4096;  // many cuts inside each document
  o.progress = false;
  const auto r = etl_prepare(etl_sources_from_paths({dir / "in"}), enc, o);
  std::vector<std::uint16_t> got;
  for (const auto& s : r.manifest.shards) {
    const auto t = shard_read(dir / ("out/" + s.file), enc.vocab_size());
    got.insert(got.end(), t.begin(), t.end());
  }
  ASSERT_EQ(got.size(), expect.size());
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], expect[i]) << "token " << i;
}

struct CliResult {
  int code;
  std::string output;
};

CliResult weft_cli(const std::string& args) {
  const std::string cmd = std::string(WEFT_EXE) + " " + args + " 2>&1; echo \"exit=$?\"";
  std::string out = run_command(cmd);
  const auto at = out.rfind("exit=");
  return {std::stoi(out.substr(at + 5)), out.substr(0, at)};
}

TEST(DataEtlGpt2, CliPreparesVerifiesAndRejectsBadInput) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 300; ++i) text += "Verse " + std::to_string(i) + ": and it was good.\n";
  write_file(dir / "in/a.txt", text);
  write_file(dir / "in/b.jsonl", "{\"text\": \"Hello world\"}\n{\"text\": \"Goodbye\"}\n");
  const std::string gpt2 = "--tokenizer " + kFixtures + "/gpt2";
  auto r = weft_cli("data prepare --input " + dir / "in" + " " + gpt2 + " --out " + dir / "out" +
                    " --workers 2 --shard-tokens 1000 --val-fraction 0 --quiet");
  ASSERT_EQ(r.code, 0) << r.output;
  r = weft_cli("data verify " + dir / "out/manifest.json");
  EXPECT_EQ(r.code, 0) << r.output;
  // A changed shard: verify fails naming it.
  std::string shard = read_file(dir / "out/train_000000.bin");
  shard[1100] ^= 1;
  write_file(dir / "out/train_000000.bin", shard);
  r = weft_cli("data verify " + dir / "out/manifest.json");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("train_000000.bin' changed"), std::string::npos) << r.output;

  // Binary input: exit code 2 (input error), the file named, nothing written.
  write_file(dir / "bin/x.txt", std::string("\x7f"
                                            "ELF\0\0\0",
                                            7));
  r = weft_cli("data prepare --input " + dir / "bin" + " " + gpt2 + " --out " + dir / "o2 --quiet");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("x.txt': binary data"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "o2/manifest.json"));

  // A tokenizer file of another version.
  write_file(dir / "tok.json", "{\"format\": \"weft-tokenizer\", \"version\": 99}");
  r = weft_cli("data prepare --input " + dir / "in" + " --tokenizer " + dir / "tok.json" +
               " --out " + dir / "o3");
  EXPECT_NE(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("tok.json"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("version"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace weft::data
