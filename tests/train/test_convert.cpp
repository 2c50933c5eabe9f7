// `weft convert` (train/convert.hpp): llm.c → weft checkpoint → llm.c keeps every
// bit; a training checkpoint written under dp2·ZeRO-3 converts to the same
// parameters the run saved as model.bin; the safetensors export loads in PyTorch
// (tools/gpt2_safetensors_check.py: HF GPT-2 names, Conv1D shapes, its own GPT-2
// forward) with logits within 1e-4 of weft's forward. Suites Convert*.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/shard_file.hpp"
#include "model/gpt_model.hpp"
#include "model/llmc_checkpoint.hpp"
#include "train/convert.hpp"
#include "train/pretrain.hpp"

namespace weft {
namespace {

namespace fs = std::filesystem;

const std::string kFixture = std::string(WEFT_FIXTURES_DIR) + "/gpt2/model.bin";

std::string tmp(const std::string& name) {
  const fs::path p = fs::path(::testing::TempDir()) / name;
  fs::remove_all(p);
  return p.string();
}

TEST(Convert, LlmcThroughWeftCheckpointKeepsEveryBit) {
  const std::string dir = tmp("weft_convert_weft");
  const std::string back = tmp("weft_convert_back.bin");
  train::convert_model({kFixture, dir, "weft", false});
  EXPECT_TRUE(fs::exists(dir + "/ckpt/step_0/checkpoint.json"));
  train::convert_model({dir, back, "llmc", false});
  const model::LlmcModel a = model::llmc_load_model(kFixture), b = model::llmc_load_model(back);
  EXPECT_EQ(a.config.describe(), b.config.describe());
  EXPECT_EQ(std::vector<float>(a.params.begin(), a.params.end()),
            std::vector<float>(b.params.begin(), b.params.end()));
  // Never overwrites.
  EXPECT_THROW(train::convert_model({kFixture, back, "llmc", false}), Error);
  EXPECT_THROW(train::convert_model({kFixture, dir, "weft", false}), Error);
}

TEST(Convert, ShardedTrainingCheckpointToLlmc) {
  const std::string data = tmp("weft_convert_data");
  fs::create_directories(data);
  Rng rng(3);
  std::vector<std::uint16_t> tokens(4000);
  for (auto& t : tokens) t = static_cast<std::uint16_t>(rng.below(64));
  data::shard_write(data + "/syn_train_000.bin", tokens);
  train::PretrainOptions o;
  o.model = "d2";
  o.vocab = 64;
  o.max_seq = 16;
  o.data = data;
  o.batch = 4;
  o.seq = 8;
  o.steps = 4;
  o.save_every = 4;
  o.threads = 1;
  o.peak_gflops = 1;
  o.quiet = true;
  o.ranks = 2;
  o.ranks_as = "threads";
  o.zero = 3;
  o.bucket_mb = 0.01;
  o.out = tmp("weft_convert_run");
  train::pretrain(o);
  const std::string out = tmp("weft_convert_run.bin");
  train::convert_model({o.out, out, "llmc", false});
  const model::LlmcModel a = model::llmc_load_model(o.out + "/model.bin"),
                         b = model::llmc_load_model(out);
  EXPECT_EQ(std::vector<float>(a.params.begin(), a.params.end()),
            std::vector<float>(b.params.begin(), b.params.end()));
}

int run(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

void write_file(const std::string& path, const void* data, std::size_t bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
}

TEST(Convert, SafetensorsLogitsMatchPyTorch) {
  if (run("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "/usr/bin/python3 has no torch (apt-get install python3-torch): "
                    "the PyTorch check of the safetensors export is skipped";
  const std::string dir = tmp("weft_convert_st");
  train::convert_model({kFixture, dir, "safetensors", false});
  ASSERT_TRUE(fs::exists(dir + "/config.json"));
  // weft's logits for two random rows.
  const model::LlmcModel lm = model::llmc_load_model(kFixture);
  const model::GptConfig& c = lm.config;
  const int B = 2, T = 16;
  model::GptModel m(c, B, T, /*training=*/false);
  std::copy(lm.params.begin(), lm.params.end(), m.params());
  Rng rng(9);
  std::vector<std::int32_t> x(B * T);
  for (auto& t : x) t = static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(c.vocab)));
  m.forward(x.data(), nullptr, nullptr, B, T);
  std::vector<float> logits;
  for (int bt = 0; bt < B * T; ++bt)
    logits.insert(logits.end(), m.logits() + static_cast<std::size_t>(bt) * c.padded_vocab,
                  m.logits() + static_cast<std::size_t>(bt) * c.padded_vocab + c.vocab);
  write_file(dir + "/tokens.i32", x.data(), x.size() * 4);
  write_file(dir + "/logits.f32", logits.data(), logits.size() * 4);
  const std::string script =
      str("/usr/bin/python3 ", WEFT_SOURCE_DIR, "/tools/gpt2_safetensors_check.py ", dir, " ", dir,
          "/tokens.i32 ", B, " ", T, " ");
  EXPECT_EQ(run(script + dir + "/logits.f32 1e-4"), 0);
  // The check can fail: one logit off by 1e-3 is caught.
  logits[37] += 1e-3f;
  write_file(dir + "/logits_off.f32", logits.data(), logits.size() * 4);
  EXPECT_EQ(run(script + dir + "/logits_off.f32 1e-4"), 1);
}

}  // namespace
}  // namespace weft
