// `weft rlhf` end to end on files (tiny tokenizer, model, pairs, reward model). DPO:
// the held-out accuracy and margin rise, metrics.jsonl has every step, model.bin loads,
// a run is never overwritten, bad input names the file and line; data parallel (2
// thread ranks) gives the single rank's losses and weights for the same global batch.
// PPO: runs with a reward-model directory, KL 0 on the first rollout, logs every step.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/tokenizer.hpp"
#include "infer/rlhf_stage.hpp"
#include "kernels/cpu/matmul_bf16.hpp"
#include "model/gpt_model.hpp"
#include "model/llmc_checkpoint.hpp"
#include "model/reward_head.hpp"

namespace weft::infer {
namespace {

namespace fs = std::filesystem;

const char* const kWords[] = {"apple", "river", "stone", "cloud",
                              "light", "green", "house", "bread"};

// Tokenizer, SFT-like model and pairs in a fresh directory. Chosen answers say
// "yes <word>", rejected ones "no <word>": a rule that carries over to held-out pairs.
struct StageFiles {
  fs::path dir;
  std::string tok, model, pairs, val;
};

StageFiles make_files(const std::string& name) {
  StageFiles f;
  f.dir = fs::path(::testing::TempDir()) / name;
  fs::remove_all(f.dir);
  fs::create_directories(f.dir);
  std::string text;
  for (int i = 0; i < 50; ++i)
    for (const char* w : kWords) text += std::string("yes no what is ") + w + " ";
  const std::vector<std::string_view> texts = {text};
  const data::Tokenizer tok = data::tokenizer_train(texts, {300, 1, false});
  f.tok = (f.dir / "tok.json").string();
  tok.save(f.tok);
  model::GptConfig c;
  c.n_layer = 1;
  c.n_head = 2;
  c.n_embd = 32;
  c.vocab = static_cast<int>(tok.vocab_size());
  c.padded_vocab = model::pad_vocab(c.vocab);
  c.max_seq = 32;
  model::GptModel m(c, 1, 8, false);
  m.init_weights(9);
  f.model = (f.dir / "sft.bin").string();
  model::llmc_save_model(f.model, c, m.params());
  Rng rng(3);
  auto write_pairs = [&](const fs::path& path, int n, int word0, int words) {
    std::ofstream out(path);
    for (int i = 0; i < n; ++i) {
      const std::string w =
          kWords[word0 + static_cast<int>(rng.below(static_cast<std::uint64_t>(words)))];
      out << nlohmann::json{{"prompt", "what is " + w},
                            {"chosen", "yes " + w},
                            {"rejected", "no " + w}}
                 .dump()
          << "\n";
    }
  };
  f.pairs = (f.dir / "pairs_train.jsonl").string();
  f.val = (f.dir / "pairs_test.jsonl").string();
  write_pairs(f.pairs, 40, 0, 6);  // words 0..5 in training
  write_pairs(f.val, 8, 6, 2);     // words 6..7 held out
  return f;
}

RlhfOptions dpo_options(const StageFiles& f, const std::string& out) {
  RlhfOptions o;
  o.method = "dpo";
  o.model = f.model;
  o.tokenizer = f.tok;
  o.pairs = f.pairs;
  o.val_pairs = f.val;
  o.out = (f.dir / out).string();
  o.steps = 12;
  o.batch = 4;
  o.lr = 3e-3;
  o.beta = 0.1f;
  o.threads = 1;
  o.quiet = true;
  return o;
}

std::vector<nlohmann::json> read_metrics(const std::string& dir) {
  std::ifstream in(fs::path(dir) / "metrics.jsonl");
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(RlhfStage, DpoLearnsAndWritesItsRun) {
  const StageFiles f = make_files("rlhf_stage_dpo");
  const RlhfOptions o = dpo_options(f, "run");
  const RlhfResult r = rlhf(o);
  EXPECT_EQ(r.val_before, 0.0);
  EXPECT_GT(r.val_after, 0.9);
  EXPECT_GT(r.val_margin_after, r.val_margin_before + 0.1);
  const std::vector<nlohmann::json> m = read_metrics(o.out);
  ASSERT_EQ(m.size(), 13u);  // step 0 (validation) + 12 steps
  EXPECT_EQ(m[0]["step"], 0);
  EXPECT_EQ(m[0]["val_accuracy"], 0.0);
  for (int s = 1; s <= 12; ++s) {
    EXPECT_EQ(m[static_cast<std::size_t>(s)]["step"], s);
    for (const char* k : {"loss", "reward_margin", "accuracy", "chosen_reward", "rejected_reward"})
      EXPECT_TRUE(m[static_cast<std::size_t>(s)].contains(k)) << k;
  }
  EXPECT_TRUE(m.back().contains("val_accuracy"));
  const model::LlmcModel saved = model::llmc_load_model(o.out + "/model.bin");
  const model::LlmcModel sft = model::llmc_load_model(f.model);
  ASSERT_EQ(saved.params.size(), sft.params.size());
  EXPECT_NE(saved.params[0], sft.params[0]);
  // A second run into the same directory is refused and leaves the first intact.
  EXPECT_THROW(rlhf(o), Error);
  EXPECT_EQ(read_metrics(o.out).size(), 13u);
}

TEST(RlhfStage, BadInputNamesFileAndLine) {
  const StageFiles f = make_files("rlhf_stage_bad");
  const std::string bad = (f.dir / "bad.jsonl").string();
  std::ofstream(bad)
      << "{\"prompt\":\"what is apple\",\"chosen\":\"yes apple\",\"rejected\":\"no apple\"}\n"
      << "{\"prompt\":\"what is apple\",\"chosen\":\"yes apple\"}\n";
  RlhfOptions o = dpo_options(f, "bad_run");
  o.pairs = bad;
  try {
    rlhf(o);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("rejected"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(f.dir / "bad_run" / "metrics.jsonl"));
  o = dpo_options(f, "bad_run");
  o.method = "sgd";
  EXPECT_THROW(rlhf(o), Error);
  o = dpo_options(f, "bad_run");
  o.method = "ppo";  // needs prompts and a reward model
  EXPECT_THROW(rlhf(o), Error);
}

TEST(RlhfStage, DpoDataParallelMatchesOneRank) {
  const StageFiles f = make_files("rlhf_stage_dp");
  RlhfOptions one = dpo_options(f, "one");
  one.steps = 5;
  one.val_pairs.clear();
  RlhfOptions two = one;
  two.out = (f.dir / "two").string();
  two.ranks = 2;
  two.ranks_as = "threads";
  const RlhfResult a = rlhf(one), b = rlhf(two);
  ASSERT_EQ(a.losses.size(), 5u);
  ASSERT_EQ(b.losses.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i)
    EXPECT_NEAR(b.losses[i], a.losses[i], 1e-5 * std::abs(a.losses[i]) + 1e-6);
  const model::LlmcModel pa = model::llmc_load_model(one.out + "/model.bin");
  const model::LlmcModel pb = model::llmc_load_model(two.out + "/model.bin");
  double max_diff = 0.0, max_abs = 0.0;
  for (std::size_t i = 0; i < pa.params.size(); ++i) {
    max_diff = std::max(max_diff, static_cast<double>(std::abs(pa.params[i] - pb.params[i])));
    max_abs = std::max(max_abs, static_cast<double>(std::abs(pa.params[i])));
  }
  EXPECT_LT(max_diff, 1e-4 * max_abs);
  // The trained weights moved (so the comparison means something).
  const model::LlmcModel sft = model::llmc_load_model(f.model);
  double moved = 0.0;
  for (std::size_t i = 0; i < pa.params.size(); ++i)
    moved = std::max(moved, static_cast<double>(std::abs(pa.params[i] - sft.params[i])));
  EXPECT_GT(moved, 1e-3);
}

// A reward model directory: the SFT transformer with a random scalar head, so the
// reward is a fixed linear function of the final hidden state the policy can steer.
std::string make_reward_dir(const StageFiles& f) {
  const fs::path d = f.dir / "rm";
  fs::create_directories(d);
  const model::LlmcModel sft = model::llmc_load_model(f.model);
  model::llmc_save_model((d / "model.bin").string(), sft.config, sft.params.data());
  model::RewardHead head(sft.config.n_embd);
  Rng rng(17);
  for (std::size_t i = 0; i < head.size(); ++i) head.params.data()[i] = 0.5f * rng.normal();
  model::reward_head_save((d / "reward_head.bin").string(), head);
  return d.string();
}

TEST(RlhfStage, PpoRunsLogsEveryStepAndSaves) {
  const StageFiles f = make_files("rlhf_stage_ppo");
  RlhfOptions o;
  o.method = "ppo";
  o.model = f.model;
  o.reward_model = make_reward_dir(f);
  o.tokenizer = f.tok;
  o.prompts = f.pairs;
  o.val_prompts = f.val;
  o.out = (f.dir / "run").string();
  o.steps = 12;
  o.batch = 8;
  o.minibatch = 4;
  o.epochs = 2;
  o.lr = 3e-3;
  o.critic_lr = 3e-3;
  o.kl_beta = 0.01f;
  o.max_new_tokens = 6;
  o.threads = 1;
  o.quiet = true;
  const RlhfResult r = rlhf(o);
  ASSERT_EQ(r.rewards.size(), 12u);
  EXPECT_EQ(r.kls[0], 0.0);  // actor = reference on the first rollout
  // (That PPO raises a learnable reward is RlhfToy.PpoRaisesRewardForPreferredToken;
  // here a random head over 300 tokens is too noisy for 12 small steps.)
  for (std::size_t i = 0; i < r.rewards.size(); ++i) EXPECT_TRUE(std::isfinite(r.rewards[i]));
  EXPECT_NE(r.val_before, 0.0);
  EXPECT_TRUE(std::isfinite(r.val_after));
  const std::vector<nlohmann::json> m = read_metrics(o.out);
  ASSERT_EQ(m.size(), 13u);
  for (int s = 1; s <= 12; ++s)
    for (const char* k : {"reward", "kl", "entropy", "clip_fraction", "value_loss"})
      EXPECT_TRUE(m[static_cast<std::size_t>(s)].contains(k)) << k;
  EXPECT_TRUE(fs::exists(fs::path(o.out) / "model.bin"));
  // A reward model that is not a directory is a clear error.
  o.reward_model = f.model;
  o.out = (f.dir / "run2").string();
  EXPECT_THROW(rlhf(o), Error);
}

// --precision bf16 in DPO: it learns as fp32 does (held-out accuracy > 0.9) and the
// mean of the last 4 step losses is within 5% of fp32's; step 0 is exactly ln 2 in
// both (policy = reference, computed the same way).
TEST(RlhfBf16, DpoTracksFp32) {
  if (!cpu::bf16_matmul_available()) GTEST_SKIP() << cpu::bf16_matmul_status();
  const StageFiles f = make_files("rlhf_bf16_dpo_" + std::to_string(::getpid()));
  RlhfOptions o = dpo_options(f, "fp32");
  const RlhfResult a = rlhf(o);
  o.out = (f.dir / "bf16").string();
  o.precision = "bf16";
  const RlhfResult b = rlhf(o);
  ASSERT_EQ(a.losses.size(), b.losses.size());
  EXPECT_NEAR(b.losses[0], std::log(2.0), 1e-6);
  EXPECT_NE(a.losses.back(), b.losses.back()) << "bf16 run is bitwise fp32: setting ignored?";
  double ta = 0, tb = 0;
  for (std::size_t i = a.losses.size() - 4; i < a.losses.size(); ++i) ta += a.losses[i], tb += b.losses[i];
  EXPECT_NEAR(tb, ta, 0.05 * ta);
  EXPECT_GT(b.val_after, 0.9);
  fs::remove_all(f.dir);
}

// --precision bf16 in PPO (actor, reference, critic, reward model and the rollout
// engine): the run completes with finite rewards, the first rollout's KL is exactly 0
// (actor = reference), and the rewards differ from fp32's (the setting took effect).
TEST(RlhfBf16, PpoRunsInBf16) {
  if (!cpu::bf16_matmul_available()) GTEST_SKIP() << cpu::bf16_matmul_status();
  const StageFiles f = make_files("rlhf_bf16_ppo_" + std::to_string(::getpid()));
  RlhfOptions o;
  o.method = "ppo";
  o.model = f.model;
  o.reward_model = make_reward_dir(f);
  o.tokenizer = f.tok;
  o.prompts = f.pairs;
  o.val_prompts = f.val;
  o.out = (f.dir / "fp32").string();
  o.steps = 4;
  o.batch = 8;
  o.minibatch = 4;
  o.epochs = 1;
  o.lr = 3e-3;
  o.critic_lr = 3e-3;
  o.max_new_tokens = 6;
  o.threads = 1;
  o.quiet = true;
  const RlhfResult a = rlhf(o);
  o.out = (f.dir / "bf16").string();
  o.precision = "bf16";
  const RlhfResult b = rlhf(o);
  ASSERT_EQ(b.rewards.size(), 4u);
  EXPECT_EQ(b.kls[0], 0.0);
  for (double r : b.rewards) EXPECT_TRUE(std::isfinite(r));
  EXPECT_NE(a.rewards[0], b.rewards[0]);
  EXPECT_TRUE(fs::exists(fs::path(o.out) / "model.bin"));
  fs::remove_all(f.dir);
}

}  // namespace
}  // namespace weft::infer
