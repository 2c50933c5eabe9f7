// Checkpoints of `weft train` (train/checkpoint.hpp): 40 steps equal 20 + resume +
// 20 bitwise (one rank; dp2·ZeRO-1 thread ranks); a checkpoint written under
// dp2·ZeRO-3 continues under one rank and vice versa with the losses of the
// uninterrupted run (rel 1e-5); damaged checkpoints are refused naming the file
// and nothing is deleted; a failed save (full disk) leaves the previous checkpoint
// loadable; --keep prunes; --on-nan stop|skip. Suites Checkpoint*.
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
#include "data/shard_file.hpp"
#include "model/llmc_checkpoint.hpp"
#include "train/checkpoint.hpp"
#include "train/pretrain.hpp"

namespace weft {
namespace {

namespace fs = std::filesystem;

// 40k tokens over 128 symbols: a 97-token pattern with 30 % noise.
std::string data_file() {
  const fs::path p = fs::path(::testing::TempDir()) / ("weft_ckpt_data_" + std::to_string(::getpid())) / "syn_train_000.bin";
  if (!fs::exists(p)) {
    fs::create_directories(p.parent_path());
    Rng rng(11);
    std::vector<std::uint16_t> pattern(97), tokens(40000);
    for (auto& t : pattern) t = static_cast<std::uint16_t>(rng.below(128));
    for (std::size_t i = 0; i < tokens.size(); ++i)
      tokens[i] =
          rng.uniform() < 0.7 ? pattern[i % 97] : static_cast<std::uint16_t>(rng.below(128));
    data::shard_write(p.string(), tokens);
  }
  return p.string();
}

train::PretrainOptions tiny(const std::string& out, int steps = 40) {
  train::PretrainOptions o;
  o.model = "d2";
  o.vocab = 128;
  o.max_seq = 32;
  o.data = data_file();
  o.batch = 4;
  o.seq = 16;
  o.steps = steps;
  o.lr = 1e-3;
  o.warmup = 3;
  o.weight_decay = 0.1;
  o.threads = 1;
  o.peak_gflops = 1.0;
  o.quiet = true;
  o.overwrite = true;
  o.bucket_mb = 0.05;  // several buckets: ZeRO pieces and tails in many tensors
  o.out = (fs::path(::testing::TempDir()) / out).string();
  fs::remove_all(o.out);
  return o;
}

train::PretrainOptions dp(train::PretrainOptions o, int zero) {
  o.ranks = 2;
  o.ranks_as = "threads";
  o.zero = zero;
  return o;
}

std::vector<float> final_params(const std::string& run) {
  const model::LlmcModel m = model::llmc_load_model(run + "/model.bin");
  return {m.params.begin(), m.params.end()};
}

double max_rel(const std::vector<double>& a, const std::vector<double>& b) {
  double w = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    w = std::max(w, std::abs(a[i] - b[i]) / std::abs(b[i]));
  return w;
}

// 40 steps vs 20 + resume + 20 with the same options: identical bits.
void expect_bitwise_resume(const train::PretrainOptions& base, const std::string& tag) {
  train::PretrainOptions whole = base;
  whole.out += "_whole_" + tag;
  fs::remove_all(whole.out);
  const train::PretrainResult a = train::pretrain(whole);
  train::PretrainOptions first = base;
  first.out += "_split_" + tag;
  fs::remove_all(first.out);
  first.stop_after = 20;
  const train::PretrainResult b1 = train::pretrain(first);
  ASSERT_EQ(b1.losses.size(), 20u);
  EXPECT_EQ(b1.last_checkpoint, first.out + "/ckpt/step_20");
  train::PretrainOptions second = base;
  second.out = first.out;
  second.resume = "latest";
  const train::PretrainResult b2 = train::pretrain(second);
  EXPECT_EQ(b2.first_step, 20);
  ASSERT_EQ(b2.losses.size(), 20u);
  for (int i = 0; i < 40; ++i) {
    const double l = i < 20 ? b1.losses[i] : b2.losses[i - 20];
    EXPECT_EQ(l, a.losses[i]) << "step " << i + 1;
  }
  EXPECT_EQ(final_params(whole.out), final_params(first.out));
  // metrics.jsonl: one line per step 1..40 once.
  std::ifstream in(first.out + "/metrics.jsonl");
  int n = 0;
  for (std::string line; std::getline(in, line);)
    EXPECT_EQ(nlohmann::json::parse(line)["step"], ++n);
  EXPECT_EQ(n, 40);
}

TEST(CheckpointResume, OneRankBitwise) {
  expect_bitwise_resume(tiny("weft_ckpt_r1"), "r1");
}

TEST(CheckpointResume, Dp2Zero1ThreadsBitwise) {
  expect_bitwise_resume(dp(tiny("weft_ckpt_dp2z1"), 1), "dp2z1");
}

TEST(CheckpointResume, Tp2ThreadsBitwise) {
  train::PretrainOptions o = tiny("weft_ckpt_tp2");
  o.tp = 2;
  expect_bitwise_resume(o, "tp2");
}

// tp2 → one rank and one rank → tp2: the losses of the uninterrupted one-rank run
// (rel 1e-5; tp2 itself differs from one rank by rounding, docs/parallel.md).
TEST(CheckpointReshard, Tp2ToOneRankAndBack) {
  const train::PretrainResult ref = train::pretrain(tiny("weft_ckpt_tp_ref"));
  for (int writer_tp : {2, 1}) {
    train::PretrainOptions w = tiny(str("weft_ckpt_tp_from", writer_tp));
    w.tp = writer_tp;
    w.stop_after = 20;
    const train::PretrainResult a = train::pretrain(w);
    train::PretrainOptions r = w;
    r.tp = 3 - writer_tp;
    r.stop_after = 0;
    r.resume = "latest";
    const train::PretrainResult b = train::pretrain(r);
    std::vector<double> all = a.losses;
    all.insert(all.end(), b.losses.begin(), b.losses.end());
    ASSERT_EQ(all.size(), 40u);
    EXPECT_LE(max_rel(all, ref.losses), 1e-5) << "written under tp" << writer_tp;
  }
}

// The reference of a dp2 run: one rank over the same global batch as 2 micro-batches
// (tests/train/tests.cmake says why).
train::PretrainOptions one_rank_ref(train::PretrainOptions o) {
  o.batch = 2;
  o.grad_accum = 2;
  return o;
}

void expect_reshard(const train::PretrainOptions& writer, const train::PretrainOptions& reader,
                    const std::string& tag) {
  train::PretrainOptions ref = one_rank_ref(tiny("weft_ckpt_reshard_ref_" + tag));
  const train::PretrainResult r = train::pretrain(ref);
  train::PretrainOptions w = writer;
  w.stop_after = 20;
  const train::PretrainResult a = train::pretrain(w);
  train::PretrainOptions rd = reader;
  rd.out = w.out;
  rd.resume = "latest";
  const train::PretrainResult b = train::pretrain(rd);
  ASSERT_EQ(a.losses.size() + b.losses.size(), 40u);
  std::vector<double> all = a.losses;
  all.insert(all.end(), b.losses.begin(), b.losses.end());
  EXPECT_LE(max_rel(all, r.losses), 1e-5);
  const std::vector<float> p = final_params(ref.out), q = final_params(w.out);
  double dmax = 0, pmax = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    dmax = std::max(dmax, std::abs(static_cast<double>(p[i]) - q[i]));
    pmax = std::max(pmax, std::abs(static_cast<double>(p[i])));
  }
  EXPECT_LE(dmax / pmax, 1e-4) << "final parameters";
}

TEST(CheckpointReshard, Dp2Zero3ToOneRankZero0) {
  const train::PretrainOptions w = dp(tiny("weft_ckpt_z3_to_1"), 3);
  expect_reshard(w, one_rank_ref(tiny("weft_ckpt_unused_a")), "a");
}

TEST(CheckpointReshard, OneRankToDp2Zero3) {
  const train::PretrainOptions w = one_rank_ref(tiny("weft_ckpt_1_to_z3"));
  expect_reshard(w, dp(tiny("weft_ckpt_unused_b"), 3), "b");
}

// A short run with one saved checkpoint; returns its step directory.
std::string saved_checkpoint(const std::string& name) {
  train::PretrainOptions o = tiny(name, 6);
  o.stop_after = 3;
  return train::pretrain(o).last_checkpoint;
}

std::string open_error(const std::string& dir) {
  try {
    train::ckpt_open(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(CheckpointDrills, DamagedCheckpointsAreRefusedNamingFileAndReason) {
  const std::string dir = saved_checkpoint("weft_ckpt_damage");
  ASSERT_EQ(open_error(dir), "");
  const std::vector<std::string> files = listing(dir);
  const std::string rank_file = dir + "/rank_00000.bin";
  const std::string copy = dir + ".orig";
  fs::copy(dir, copy);
  auto restore = [&] {
    fs::remove_all(dir);
    fs::copy(copy, dir);
  };
  // Truncated.
  fs::resize_file(rank_file, fs::file_size(rank_file) - 100);
  std::string e = open_error(dir);
  EXPECT_NE(e.find("rank_00000.bin"), std::string::npos) << e;
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
  EXPECT_EQ(listing(dir), files);
  restore();
  // One bit flipped in the data.
  {
    std::fstream f(rank_file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-17, std::ios::end);
    char ch = 0;
    f.read(&ch, 1);
    ch ^= 0x10;
    f.seekp(-17, std::ios::end);
    f.write(&ch, 1);
  }
  e = open_error(dir);
  EXPECT_NE(e.find("rank_00000.bin"), std::string::npos) << e;
  EXPECT_NE(e.find("SHA-256"), std::string::npos) << e;
  restore();
  // checkpoint.json edited by hand (the step changed; still valid JSON).
  {
    std::ifstream in(dir + "/checkpoint.json");
    nlohmann::json j = nlohmann::json::parse(in);
    j["step"] = 5;
    std::ofstream(dir + "/checkpoint.json") << j.dump(1);
  }
  e = open_error(dir);
  EXPECT_NE(e.find("checkpoint.json"), std::string::npos) << e;
  EXPECT_NE(e.find("edited by hand"), std::string::npos) << e;
  restore();
  // Missing rank file.
  fs::remove(rank_file);
  e = open_error(dir);
  EXPECT_NE(e.find("rank_00000.bin: missing"), std::string::npos) << e;
  // Resume refuses it too, and deletes nothing.
  train::PretrainOptions o = tiny("weft_ckpt_damage_resume", 6);
  o.resume = dir;
  EXPECT_THROW(train::pretrain(o), Error);
  EXPECT_EQ(listing(dir).size(), files.size() - 1);
  restore();
  EXPECT_EQ(open_error(dir), "");
}

TEST(CheckpointDrills, FailedSaveKeepsThePreviousCheckpoint) {
  train::PretrainOptions o = tiny("weft_ckpt_diskfull", 20);
  const train::PretrainResult whole = train::pretrain(o);
  o.stop_after = 10;
  train::pretrain(o);
  o.stop_after = 0;
  o.resume = "latest";
  o.save_every = 5;
  o.save_fail_bytes = 4096;  // the step-15 save fails like a full disk
  std::string msg;
  try {
    train::pretrain(o);
  } catch (const Error& e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("step_15 was NOT saved"), std::string::npos) << msg;
  EXPECT_NE(msg.find("No space left on device"), std::string::npos) << msg;
  EXPECT_NE(msg.find("step_10 is intact"), std::string::npos) << msg;
  const std::string root = o.out + "/ckpt";
  EXPECT_EQ(listing(root), (std::vector<std::string>{"latest", "step_10"}));
  EXPECT_EQ(train::ckpt_resolve(o.out), root + "/step_10");
  EXPECT_EQ(open_error(root + "/step_10"), "");
  // The run continues from step 10 as if never interrupted.
  o.save_fail_bytes = -1;
  const train::PretrainResult rest = train::pretrain(o);
  ASSERT_EQ(rest.losses.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(rest.losses[i], whole.losses[10 + i]);
}

TEST(CheckpointDrills, KeepsNewestK) {
  train::PretrainOptions o = tiny("weft_ckpt_keep", 12);
  o.save_every = 2;
  o.keep = 2;
  train::pretrain(o);
  EXPECT_EQ(listing(o.out + "/ckpt"), (std::vector<std::string>{"latest", "step_10", "step_12"}));
  std::ifstream in(o.out + "/ckpt/latest");
  std::string latest;
  std::getline(in, latest);
  EXPECT_EQ(latest, "step_12");
}

TEST(CheckpointNan, StopNamesStepAndTensor) {
  train::PretrainOptions o = tiny("weft_ckpt_nan_stop", 10);
  o.fault = "nan";
  o.fault_rank = 0;
  o.fault_step = 5;
  std::string msg;
  try {
    train::pretrain(o);
  } catch (const Error& e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("step 5: loss is finite"), std::string::npos) << msg;
  EXPECT_NE(msg.find("first non-finite gradient: fcw (layer 1, element 0)"), std::string::npos)
      << msg;
}

TEST(CheckpointNan, SkipLeavesTheStepOut) {
  const train::PretrainResult clean = train::pretrain(tiny("weft_ckpt_nan_clean", 10));
  for (int zero : {-1, 0}) {  // one rank; dp2 ZeRO-0
    train::PretrainOptions o = tiny("weft_ckpt_nan_skip", 10);
    if (zero >= 0) o = dp(o, zero);
    o.fault = "nan";
    o.fault_rank = 0;
    o.fault_step = 5;
    o.on_nan = "skip";
    o.save_every = 10;
    const train::PretrainResult r = train::pretrain(o);
    ASSERT_EQ(r.losses.size(), 10u);
    for (int i = 0; i < 5; ++i) EXPECT_NEAR(r.losses[i], clean.losses[i], 1e-4 * clean.losses[i]);
    EXPECT_NE(r.losses[5], clean.losses[5]);  // the step-5 update is missing
    for (double l : r.losses) EXPECT_TRUE(std::isfinite(l));
    const train::Checkpoint ck = train::ckpt_open(r.last_checkpoint);
    EXPECT_EQ(ck.meta["step"], 10);
    EXPECT_EQ(ck.meta["adam_steps"], 9);  // nine updates
    std::ifstream in(o.out + "/metrics.jsonl");
    std::string line;
    for (int i = 0; i < 5; ++i) std::getline(in, line);
    EXPECT_NE(nlohmann::json::parse(line)["skipped"].get<std::string>().find("fcw (layer 1"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace weft
