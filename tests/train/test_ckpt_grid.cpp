// Checkpoints and --on-nan on a dp × tp × pp grid (train/ckpt_map.hpp,
// train/ckpt_shard.cpp, train/nan_check.hpp). The local ↔ global map is checked
// against the independent slicers (model/stage_params.hpp then parallel/tp_shard.hpp)
// and for exact once-only coverage; tp2·pp2 thread ranks resume bitwise and reshard
// to one rank; a NaN injected on one stage of tp2·pp2 stops every rank naming the
// global tensor, layer and element, or skips the step on every stage (the losses of
// one rank skipping the same step). Suites CheckpointGrid*. mpirun drills: ckpt_tests.cmake.
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
#include "model/stage_params.hpp"
#include "parallel/tp_shard.hpp"
#include "train/checkpoint.hpp"
#include "train/ckpt_map.hpp"
#include "train/pretrain.hpp"

namespace weft {
namespace {

namespace fs = std::filesystem;

std::string tmp_path(const std::string& name) {
  return (fs::path(::testing::TempDir()) / (name + "_" + std::to_string(::getpid()))).string();
}

// 40k tokens over 128 symbols: a 97-token pattern with 30 % noise.
std::string data_file() {
  const fs::path p = fs::path(tmp_path("weft_ckgrid_data")) / "syn_train_000.bin";
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

// d2 (one block per stage at pp2), 8 rows per step (B=4 × 2 micro-batches).
train::PretrainOptions tiny(const std::string& out, int steps) {
  train::PretrainOptions o;
  o.model = "d2";
  o.vocab = 128;
  o.max_seq = 32;
  o.data = data_file();
  o.batch = 4;
  o.grad_accum = 2;
  o.seq = 16;
  o.steps = steps;
  o.lr = 1e-3;
  o.warmup = 3;
  o.weight_decay = 0.1;
  o.threads = 1;
  o.peak_gflops = 1.0;
  o.quiet = true;
  o.overwrite = true;
  o.bucket_mb = 0.05;
  o.out = tmp_path(out);
  fs::remove_all(o.out);
  return o;
}

train::PretrainOptions grid(train::PretrainOptions o, int tp, int pp) {
  o.tp = tp;
  o.pp = pp;
  o.ranks_as = "threads";
  return o;
}

std::vector<float> final_params(const std::string& run) {
  const model::LlmcModel m = model::llmc_load_model(run + "/model.bin");
  return {m.params.begin(), m.params.end()};
}

// Every (tp rank, stage) of tp × pp: the map's slice equals stage slicing then tp
// slicing, and the writer runs of all ranks cover every global element exactly once.
TEST(CheckpointGridMap, MatchesTheSlicersAndCoversOnce) {
  model::GptConfig full;  // small, so every element is checked: 4 layers, 4 heads
  full.n_layer = 4;
  full.n_head = 4;
  full.n_embd = 32;
  full.vocab = 100;
  full.padded_vocab = 128;
  full.max_seq = 8;
  const model::ParamLayout full_layout(full);
  std::vector<float> global(full_layout.total());
  for (std::size_t i = 0; i < global.size(); ++i) global[i] = static_cast<float>(i);
  for (int tp : {1, 2, 4})
    for (int pp : {1, 2, 3}) {
      std::vector<int> covered(global.size(), 0);
      const std::vector<model::StageSpec> split = model::stage_split(full.n_layer, pp);
      for (int s = 0; s < pp; ++s) {
        model::GptConfig sc = full;
        model::StageSpec spec = split[static_cast<std::size_t>(s)];
        sc.n_layer = spec.layer_end - spec.layer_begin;
        const model::ParamLayout whole_stage(sc), local(sc, tp);
        std::vector<float> stage_buf(whole_stage.total());
        model::stage_params_from_full(full_layout, global.data(), spec, whole_stage,
                                      stage_buf.data());
        for (int r = 0; r < tp; ++r) {
          const train::CkptMap map(local, full, {r, tp}, spec, s + 1 == pp);
          std::vector<float> want(local.total()), got(local.total());
          parallel::tp_shard_params(sc, tp, r, stage_buf.data(), want.data());
          map.local_from_global(global.data(), got.data());
          ASSERT_EQ(got, want) << "tp " << tp << " rank " << r << " pp " << pp << " stage " << s;
          for (const train::CkptRun& run : map.runs(0, local.total(), true))
            for (std::size_t k = 0; k < run.count; ++k) {
              const std::size_t g =
                  full_layout.tensors()[static_cast<std::size_t>(run.tensor)].offset + run.global +
                  k;
              ++covered[g];
              ASSERT_EQ(global[g], got[run.local + k]);
              ASSERT_EQ(map.global_offset(run.local + k), g);
            }
        }
      }
      for (std::size_t g = 0; g < covered.size(); ++g)
        ASSERT_EQ(covered[g], 1) << "tp " << tp << " pp " << pp << " element " << g;
    }
}

// 20 steps vs 10 + resume + 10 under tp2·pp2 thread ranks: identical bits.
TEST(CheckpointGridResume, Tp2Pp2ThreadsBitwise) {
  train::PretrainOptions whole = grid(tiny("weft_ckgrid_whole", 20), 2, 2);
  const train::PretrainResult a = train::pretrain(whole);
  train::PretrainOptions first = grid(tiny("weft_ckgrid_split", 20), 2, 2);
  first.stop_after = 10;
  const train::PretrainResult b1 = train::pretrain(first);
  ASSERT_EQ(b1.losses.size(), 10u);
  train::PretrainOptions second = first;
  second.stop_after = 0;
  second.resume = "latest";
  const train::PretrainResult b2 = train::pretrain(second);
  ASSERT_EQ(b2.losses.size(), 10u);
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(i < 10 ? b1.losses[i] : b2.losses[i - 10], a.losses[i]) << "step " << i + 1;
  EXPECT_EQ(final_params(whole.out), final_params(first.out));
}

// dp2·tp2 with ZeRO-1 and ZeRO-2 (the moments sharded over dp, inside each tp shard):
// 10 + resume + 10 = 20 bitwise, then a resume of its step-10 checkpoint on one rank
// gives the uninterrupted one-rank run's losses (rel 1e-5).
TEST(CheckpointGridResume, Dp2Tp2ZeroThreadsBitwiseAndToOneRank) {
  const train::PretrainResult ref = train::pretrain(tiny("weft_ckgrid_z_ref", 20));
  for (int zero : {1, 2}) {
    train::PretrainOptions whole = grid(tiny(str("weft_ckgrid_z", zero, "_whole"), 20), 2, 1);
    whole.dp = 2;
    whole.zero = zero;
    const train::PretrainResult a = train::pretrain(whole);
    train::PretrainOptions first = whole;
    first.out = tmp_path(str("weft_ckgrid_z", zero, "_split"));
    fs::remove_all(first.out);
    first.stop_after = 10;
    const train::PretrainResult b1 = train::pretrain(first);
    train::PretrainOptions second = first;
    second.stop_after = 0;
    second.resume = "latest";
    const train::PretrainResult b2 = train::pretrain(second);
    ASSERT_EQ(b1.losses.size() + b2.losses.size(), 20u);
    for (int i = 0; i < 20; ++i)
      EXPECT_EQ(i < 10 ? b1.losses[i] : b2.losses[i - 10], a.losses[i])
          << "zero " << zero << " step " << i + 1;
    EXPECT_EQ(final_params(whole.out), final_params(first.out));
    train::PretrainOptions one = tiny(str("weft_ckgrid_z", zero, "_one"), 20);
    one.resume = first.out + "/ckpt/step_10";
    const train::PretrainResult c = train::pretrain(one);
    ASSERT_EQ(c.losses.size(), 10u);
    for (int i = 0; i < 10; ++i)
      EXPECT_NEAR(c.losses[i], ref.losses[10 + i], 1e-5 * ref.losses[10 + i]) << "zero " << zero;
  }
}

// tp2·pp2 → one rank → tp2·pp2: the uninterrupted one-rank run's losses (rel 1e-5).
TEST(CheckpointGridReshard, Tp2Pp2ToOneRankAndBack) {
  const train::PretrainResult ref = train::pretrain(tiny("weft_ckgrid_ref", 15));
  train::PretrainOptions a = grid(tiny("weft_ckgrid_reshard", 15), 2, 2);
  a.stop_after = 5;
  std::vector<double> losses = train::pretrain(a).losses;
  train::PretrainOptions b = a;  // one rank
  b.tp = 1;
  b.pp = 1;
  b.ranks_as.clear();
  b.resume = "latest";
  b.stop_after = 10;
  for (double l : train::pretrain(b).losses) losses.push_back(l);
  train::PretrainOptions c = a;
  c.resume = "latest";
  c.stop_after = 0;
  for (double l : train::pretrain(c).losses) losses.push_back(l);
  ASSERT_EQ(losses.size(), ref.losses.size());
  for (std::size_t i = 0; i < losses.size(); ++i)
    EXPECT_NEAR(losses[i], ref.losses[i], 1e-5 * ref.losses[i]) << "step " << i + 1;
}

// The NaN on world rank 3 only (tp rank 1 of stage 1, which holds layer 1 of d2):
// fcw's first local element there is global row 2C of layer 1 (column split of 4C rows).
std::string expected_nan_place() {
  const int C = model::gpt_config_preset("d2", 128, 32).n_embd;
  return str("first non-finite gradient: fcw (layer 1, element ", 2 * C * C, ")");
}

TEST(CheckpointGridNan, StopOnEveryRankNamesTheGlobalTensor) {
  train::PretrainOptions o = grid(tiny("weft_ckgrid_nan_stop", 8), 2, 2);
  o.fault = "nan";
  o.fault_rank = 3;
  o.fault_step = 4;
  std::string msg;
  try {
    train::pretrain(o);
  } catch (const Error& e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("step 4: loss is finite"), std::string::npos) << msg;
  EXPECT_NE(msg.find(expected_nan_place()), std::string::npos) << msg;
}

TEST(CheckpointGridNan, SkipOnEveryStageAsOneRankSkips) {
  train::PretrainOptions one = tiny("weft_ckgrid_nan_one", 8);
  one.fault = "nan";
  one.fault_rank = 0;
  one.fault_step = 4;
  one.on_nan = "skip";
  const train::PretrainResult ref = train::pretrain(one);
  train::PretrainOptions o = grid(tiny("weft_ckgrid_nan_skip", 8), 2, 2);
  o.fault = "nan";
  o.fault_rank = 3;
  o.fault_step = 4;
  o.on_nan = "skip";
  o.save_every = 8;
  const train::PretrainResult r = train::pretrain(o);
  ASSERT_EQ(r.losses.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(r.losses[i], ref.losses[i], 1e-5 * ref.losses[i]);
  const train::Checkpoint ck = train::ckpt_open(r.last_checkpoint);
  EXPECT_EQ(ck.meta["adam_steps"], 7);  // seven updates on every stage
  std::ifstream in(o.out + "/metrics.jsonl");
  std::string line;
  for (int i = 0; i < 4; ++i) std::getline(in, line);
  EXPECT_NE(nlohmann::json::parse(line)["skipped"].get<std::string>().find(expected_nan_place()),
            std::string::npos)
      << line;
}

}  // namespace
}  // namespace weft
