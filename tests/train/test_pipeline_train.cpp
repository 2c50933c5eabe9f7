// `weft train --pp` in-process over thread ranks: losses equal the single-rank run
// with grad_accum = m (the same global batch), the --trace file is valid JSON with
// every rank's forward/backward/send/recv/allreduce spans (counts in closed form),
// and impossible pipeline options fail with a message naming the option.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/shard_file.hpp"
#include "train/pretrain.hpp"

namespace weft {
namespace {

namespace fs = std::filesystem;

std::string make_shard(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  Rng rng(5);
  std::vector<std::uint16_t> tokens(6000);
  for (std::size_t i = 0; i < tokens.size(); ++i)
    tokens[i] = static_cast<std::uint16_t>((i * 7 + rng.below(3)) % 64);
  data::shard_write((dir / "syn_train_000.bin").string(), tokens);
  return dir.string();
}

train::PretrainOptions tiny(const std::string& data, const std::string& out) {
  train::PretrainOptions o;
  o.model = "d2";
  o.vocab = 64;
  o.max_seq = 16;
  o.data = data;
  o.batch = 2;
  o.seq = 8;
  o.steps = 4;
  o.lr = 1e-3;
  o.threads = 1;
  o.peak_gflops = 1.0;
  o.out = (fs::path(::testing::TempDir()) / out).string();
  o.quiet = true;
  o.overwrite = true;
  return o;
}

TEST(PipelineTrain, TraceHasEveryRanksSpansAndLossesMatchOneRank) {
  const std::string data = make_shard("weft_pp_trace");
  train::PretrainOptions ref = tiny(data, "weft_pp_ref");
  ref.grad_accum = 3;
  const train::PretrainResult r1 = train::pretrain(ref);

  train::PretrainOptions o = tiny(data, "weft_pp_run");
  o.pp = 2;
  o.ranks_as = "threads";
  o.schedule = "gpipe";
  o.micro_batches = 3;
  o.trace = (fs::path(::testing::TempDir()) / "weft_pp_trace.json").string();
  const train::PretrainResult r2 = train::pretrain(o);
  ASSERT_EQ(r1.losses.size(), r2.losses.size());
  for (std::size_t i = 0; i < r1.losses.size(); ++i)
    EXPECT_NEAR(r2.losses[i], r1.losses[i], 1e-5 * std::abs(r1.losses[i])) << "step " << i + 1;

  std::ifstream in(o.trace);
  ASSERT_TRUE(in.good());
  const nlohmann::json doc = nlohmann::json::parse(in);  // throws on invalid JSON
  std::map<std::pair<int, std::string>, int> count;
  for (const auto& e : doc.at("traceEvents"))
    if (e.at("ph") == "X") {
      EXPECT_GE(e.at("dur").get<double>(), 0.0);
      EXPECT_GE(e.at("ts").get<double>(), 0.0);
      ++count[{e.at("pid").get<int>(), e.at("cat").get<std::string>()}];
    }
  const int fb = o.steps * o.micro_batches;  // forwards (and backwards) per rank
  for (int rank = 0; rank < 2; ++rank) {
    EXPECT_EQ((count[{rank, "forward"}]), fb) << rank;
    EXPECT_EQ((count[{rank, "backward"}]), fb) << rank;
    EXPECT_EQ((count[{rank, "recv"}]), fb) << rank;  // activations (rank 1) or gradients (rank 0)
    EXPECT_GE((count[{rank, "send"}]), fb) << rank;
    EXPECT_GE((count[{rank, "allreduce"}]), 2 * o.steps) << rank;
  }
}

void expect_config_error(train::PretrainOptions o, const std::string& needle) {
  try {
    train::pretrain(o);
    FAIL() << "no error for " << needle;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(PipelineTrain, BadOptionsNameTheProblem) {
  const std::string data = make_shard("weft_pp_bad");
  train::PretrainOptions o = tiny(data, "weft_pp_bad_run");
  o.ranks_as = "threads";
  o.pp = 3;  // d2 has 2 layers
  expect_config_error(o, "--pp 3 exceeds the model's 2 layers");
  o.pp = 2;
  o.ranks = 3;
  expect_config_error(o, "does not match the 3 ranks started");
  o.ranks = 0;
  o.schedule = "zigzag";
  expect_config_error(o, "--schedule 'zigzag'");
  o.schedule = "1f1b";
  o.micro_batches = 4;
  o.grad_accum = 2;
  expect_config_error(o, "--micro-batches 4 and --grad-accum 2 disagree");
  o.grad_accum = 1;
  o.zero = 3;
  expect_config_error(o, "--zero 3 with --pp 2");
  o.zero = 0;
  o.zero = 0;
  o.pp = 1;
  o.trace = "x.json";
  expect_config_error(o, "--trace records a pipeline");
}

}  // namespace
}  // namespace weft
