// llm.c checkpoint / debug-state I/O: bit-exact round trips of the PyTorch-made
// fixture, bf16 (version 5) reading, and every kind of bad file → a weft::Error
// that names the file and the field.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "model/llmc_checkpoint.hpp"
#include "model/param_layout.hpp"

namespace weft {
namespace {

const std::string kFixture = std::string(WEFT_FIXTURES_DIR) + "/gpt2/";

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_bytes(const std::string& path, const std::vector<char>& b) {
  std::ofstream(path, std::ios::binary).write(b.data(), static_cast<std::streamsize>(b.size()));
}
void set_int(std::vector<char>& b, int index, std::int32_t v) { std::memcpy(&b[index * 4], &v, 4); }

std::string tmp(const std::string& name) { return ::testing::TempDir() + "weft_llmc_" + name; }

// Expects loading `bytes` as a model to fail with a message holding every needle.
void expect_model_error(const std::vector<char>& bytes, std::vector<std::string> needles) {
  const std::string path = tmp("bad_model.bin");
  write_bytes(path, bytes);
  try {
    model::llmc_load_model(path);
    FAIL() << "no error for " << needles[0];
  } catch (const Error& e) {
    needles.push_back(path);
    for (const auto& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos)
        << "'" << n << "' not in: " << e.what();
  }
}

TEST(LlmcCheckpoint, ModelRoundTripIsBitExact) {
  const model::LlmcModel m = model::llmc_load_model(kFixture + "model.bin");
  EXPECT_EQ(m.config.vocab, 101);
  EXPECT_EQ(m.config.padded_vocab, 128);
  EXPECT_EQ(m.config.n_layer, 2);
  EXPECT_EQ(m.config.n_head, 4);
  EXPECT_EQ(m.config.n_embd, 64);
  EXPECT_EQ(m.config.max_seq, 32);
  const std::string out = tmp("roundtrip.bin");
  model::llmc_save_model(out, m.config, m.params.data());
  EXPECT_EQ(read_bytes(out), read_bytes(kFixture + "model.bin"));
}

TEST(LlmcCheckpoint, StateRoundTripIsBitExact) {
  const model::LlmcModel m = model::llmc_load_model(kFixture + "model.bin");
  const model::LlmcDebugState s = model::llmc_load_debug_state(kFixture + "state.bin", m.config);
  EXPECT_EQ(s.B, 2);
  EXPECT_EQ(s.T, 16);
  const std::string out = tmp("state_roundtrip.bin");
  model::llmc_save_debug_state(out, m.config, s);
  EXPECT_EQ(read_bytes(out), read_bytes(kFixture + "state.bin"));
}

TEST(LlmcCheckpoint, ReadsBf16Version5) {
  const model::LlmcModel m = model::llmc_load_model(kFixture + "model.bin");
  // A version-5 file: the same header, each float's upper 16 bits.
  std::vector<char> b = read_bytes(kFixture + "model.bin");
  b.resize(1024);
  set_int(b, 1, 5);
  for (float f : m.params) {
    std::uint32_t bits;
    std::memcpy(&bits, &f, 4);
    const std::uint16_t hi = static_cast<std::uint16_t>(bits >> 16);
    const char* p = reinterpret_cast<const char*>(&hi);
    b.insert(b.end(), p, p + 2);
  }
  const std::string path = tmp("bf16.bin");
  write_bytes(path, b);
  const model::LlmcModel h = model::llmc_load_model(path);
  EXPECT_EQ(h.version, 5);
  ASSERT_EQ(h.params.size(), m.params.size());
  for (std::size_t i = 0; i < m.params.size(); ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, &m.params[i], 4);
    bits &= 0xffff0000u;
    float expect;
    std::memcpy(&expect, &bits, 4);
    ASSERT_EQ(h.params[i], expect) << i;
  }
}

TEST(LlmcCheckpoint, BadModelFilesNameFileAndField) {
  const std::vector<char> good = read_bytes(kFixture + "model.bin");
  auto with = [&](int index, std::int32_t v) {
    std::vector<char> b = good;
    set_int(b, index, v);
    return b;
  };
  expect_model_error(with(0, 1234), {"magic", "20240326"});
  expect_model_error(with(1, 4), {"version"});
  expect_model_error(with(5, 5), {"n_embd", "n_head"});  // 64 % 5 != 0
  expect_model_error(with(4, 0), {"n_layer"});
  expect_model_error(with(7, 100), {"padded_vocab"});    // < vocab
  expect_model_error(with(4, 3), {"truncated"});         // header says 3 layers: too few bytes
  std::vector<char> cut(good.begin(), good.end() - 100);
  expect_model_error(cut, {"truncated"});
  std::vector<char> longer = good;
  longer.resize(good.size() + 8);
  expect_model_error(longer, {"more than its header"});
  std::vector<char> tiny(good.begin(), good.begin() + 100);
  expect_model_error(tiny, {"header"});
  EXPECT_THROW(model::llmc_load_model(tmp("does_not_exist.bin")), Error);
}

TEST(LlmcCheckpoint, BadStateFilesNameFileAndField) {
  const model::LlmcModel m = model::llmc_load_model(kFixture + "model.bin");
  const std::vector<char> good = read_bytes(kFixture + "state.bin");
  auto expect_error = [&](std::vector<char> b, const std::string& needle) {
    const std::string path = tmp("bad_state.bin");
    write_bytes(path, b);
    try {
      model::llmc_load_debug_state(path, m.config);
      FAIL() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  };
  auto with = [&](int index, std::int32_t v) {
    std::vector<char> b = good;
    set_int(b, index, v);
    return b;
  };
  expect_error(with(0, 20240326), "magic");
  expect_error(with(1, 1), "version");
  expect_error(with(2, 3), "B=3");            // sizes disagree with the header
  expect_error(with(3, 64), "T");             // longer than the model's max_seq
  expect_error(with(256, 5000), "x[0]");      // token outside the vocabulary
  std::vector<char> cut(good.begin(), good.end() - 4);
  expect_error(cut, "truncated");
}

TEST(LlmcCheckpoint, SaveNeverLeavesAPartialFile) {
  const model::LlmcModel m = model::llmc_load_model(kFixture + "model.bin");
  // A directory that does not exist: the save fails, nothing appears.
  const std::string path = tmp("missing_dir/x/model.bin");
  EXPECT_THROW(model::llmc_save_model(path, m.config, m.params.data()), Error);
  EXPECT_FALSE(std::ifstream(path).good());
}

}  // namespace
}  // namespace weft
