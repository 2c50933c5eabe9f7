// `weft train` on the dp × tp × pp grid, in-process over thread ranks:
// - GridCommBytes: the bytes each axis communicator counted in every step equal the
//   analytic formula (parallel/comm_volume.hpp) on every rank, and a few are also
//   written out here in closed form from the model's dimensions;
// - GridEval: validation loss and greedy samples under tp and pp equal one rank's.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

#include "core/rng.hpp"
#include "data/shard_file.hpp"
#include "train/pretrain.hpp"

namespace weft {
namespace {

namespace fs = std::filesystem;

// A train shard and a val shard in a directory unique to the test and process.
std::string make_shards(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / (name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  Rng rng(11);
  std::vector<std::uint16_t> tokens(8000);
  for (std::size_t i = 0; i < tokens.size(); ++i)
    tokens[i] = static_cast<std::uint16_t>((i * 5 + rng.below(4)) % 64);
  data::shard_write((dir / "syn_train_000.bin").string(), tokens);
  for (auto& t : tokens) t = static_cast<std::uint16_t>((t * 3 + rng.below(2)) % 64);
  data::shard_write((dir / "syn_val_000.bin").string(), tokens);
  return dir.string();
}

// d2 (C = 128, 2 heads, 2 layers), vocab 64 (Vp 128), max_seq 16; B = 4, T = 8.
train::PretrainOptions tiny(const std::string& data, const std::string& out) {
  train::PretrainOptions o;
  o.model = "d2";
  o.vocab = 64;
  o.max_seq = 16;
  o.data = data;
  o.batch = 4;
  o.seq = 8;
  o.steps = 3;
  o.lr = 1e-3;
  o.threads = 1;
  o.peak_gflops = 1.0;
  o.bucket_mb = 0.05;  // several buckets
  o.out = (fs::path(data) / out).string();
  o.quiet = true;
  o.overwrite = true;
  o.ranks_as = "threads";
  return o;
}

// Every rank: measured == formula on each axis, and every step the same.
void expect_matches(const train::PretrainResult& r, int world, const std::string& what) {
  ASSERT_EQ(static_cast<int>(r.comm.size()), world) << what;
  for (const train::CommCheck& c : r.comm) {
    EXPECT_TRUE(c.steps_match) << what << " rank " << c.rank;
    for (int a = 0; a < 3; ++a) {
      ASSERT_GE(c.formula[a], 0.0) << what;
      EXPECT_EQ(c.measured[a], c.formula[a]) << what << " rank " << c.rank << " axis " << a;
    }
  }
}

TEST(GridCommBytes, PipelineAxisMatchesClosedForm) {
  const std::string data = make_shards("weft_comm_pp");
  train::PretrainOptions o = tiny(data, "pp2");
  o.pp = 2;
  o.micro_batches = 3;
  const train::PretrainResult r = train::pretrain(o);
  expect_matches(r, 2, "pp2");
  // Written out: each stage sends m activations (or gradients) of B·T·C floats and
  // one wte message of Vp·C floats, receives as many; plus the norm (1 double).
  const double C = 128, Vp = 128, BT = 4 * 8, m = 3;
  const double pp_bytes = 2 * (m * 4 * BT * C + 4 * Vp * C) + 8;
  for (const train::CommCheck& c : r.comm) {
    EXPECT_EQ(c.measured[2], pp_bytes) << c.rank;
    EXPECT_EQ(c.measured[0], 0.0);  // no dp, no tp: nothing counted there
    EXPECT_EQ(c.measured[1], 0.0);
  }
}

TEST(GridCommBytes, DataAxisZeroStagesMatchClosedForm) {
  const std::string data = make_shards("weft_comm_dp");
  // Ψ of d2 from its dimensions: wte Vp·C + wpe maxT·C + lnf 2C + L·(12C² + 13C).
  const double C = 128, psi = 128 * C + 16 * C + 2 * C + 2 * (12 * C * C + 13 * C);
  for (int zero : {0, 1, 2, 3}) {
    for (bool early : {false, true}) {
      const std::string what = "dp2 zero" + std::to_string(zero) + (early ? " early wte" : "");
      train::PretrainOptions o = tiny(data, "dp2_z" + std::to_string(zero) + (early ? "e" : ""));
      o.ranks = 2;
      o.zero = zero;
      o.grad_accum = 2;  // only the last micro-batch reduces
      o.dp_early_wte = early;
      const train::PretrainResult r = train::pretrain(o);
      expect_matches(r, 2, what);
      // ZeRO-0: all-reduce 4Ψ; ZeRO-1/2: reduce-scatter 4Ψ + all-gather 4Ψ + norm 8;
      // ZeRO-3: reduce-scatter 4Ψ + norm 8 + per micro-batch (2) the gathers of the
      // embedding ×3, final LayerNorm ×2 and blocks ×2; the loss (2 doubles) in all.
      const double emb = 128 * C + 16 * C, blocks = psi - emb - 2 * C;
      const double z3 = 4 * psi + 8 + 2 * 4 * (3 * emb + 2 * 2 * C + 2 * blocks);
      const double want = (zero == 0 ? 4 * psi : zero == 3 ? z3 : 8 * psi + 8) + 16;
      for (const train::CommCheck& c : r.comm) {
        if (!early) {
          EXPECT_EQ(c.measured[0], want) << what;
          continue;
        }
        // Early wte adds the touched-row map (Vp = 128 bytes) and R touched rows of
        // C floats, 1 <= R <= the last micro-batch's 2 ranks x 2 rows x 8 tokens.
        const double extra = c.measured[0] - want - 128;
        const double rows = extra / (4 * C);
        EXPECT_EQ(rows, std::floor(rows)) << what;
        EXPECT_GE(rows, 1.0) << what;
        EXPECT_LE(rows, 32.0) << what;
      }
    }
  }
}

TEST(GridCommBytes, EveryAxisOfMixedLayoutsMatchesFormula) {
  const std::string data = make_shards("weft_comm_mixed");
  struct Layout {
    const char* name;
    int dp, tp, pp, zero;
    const char* schedule;
  };
  const Layout layouts[] = {{"dp2_pp2_z1", 2, 1, 2, 1, "1f1b"},
                            {"dp2_pp2_z2", 2, 1, 2, 2, "gpipe"},
                            {"tp2_pp2", 1, 2, 2, 0, "1f1b"},
                            {"dp2_tp2_z1", 2, 2, 1, 1, "1f1b"},
                            {"dp2_tp2_pp2_z1", 2, 2, 2, 1, "gpipe"}};
  for (const Layout& l : layouts) {
    train::PretrainOptions o = tiny(data, l.name);
    o.dp = l.dp;
    o.tp = l.tp;
    o.pp = l.pp;
    o.zero = l.zero;
    o.schedule = l.schedule;
    const train::PretrainResult r = train::pretrain(o);
    expect_matches(r, l.dp * l.tp * l.pp, l.name);
  }
  // Three stages (d3: a middle stage sends and receives both ways, no wte).
  train::PretrainOptions o = tiny(data, "pp3");
  o.model = "d3";
  o.pp = 3;
  const train::PretrainResult r = train::pretrain(o);
  expect_matches(r, 3, "pp3");
  const double C = 192, BT = 4 * 8, m = 3;
  EXPECT_EQ(r.comm[1].measured[2], 4 * m * 4 * BT * C + 8);
}

// Validation losses and greedy samples of tp/pp layouts against one rank.
TEST(GridEval, ValidationAndSamplesMatchOneRank) {
  const std::string data = make_shards("weft_grid_eval");
  train::PretrainOptions ref = tiny(data, "ref");
  ref.steps = 4;
  ref.grad_accum = 2;
  ref.val_every = 2;
  ref.val_batches = 3;
  ref.sample_every = 2;
  ref.sample_tokens = 6;
  ref.ranks_as = "";
  const train::PretrainResult r1 = train::pretrain(ref);
  ASSERT_EQ(r1.val_losses.size(), 2u);
  ASSERT_EQ(r1.samples.size(), 2u);
  struct Layout {
    const char* name;
    int dp, tp, pp;
  };
  for (const Layout& l : {Layout{"pp2", 1, 1, 2}, Layout{"tp2", 1, 2, 1}, Layout{"tp2_pp2", 1, 2, 2},
                          Layout{"dp2_pp2", 2, 1, 2}, Layout{"dp2_tp2", 2, 2, 1}}) {
    train::PretrainOptions o = ref;
    o.out = (fs::path(data) / l.name).string();
    o.ranks_as = "threads";
    o.dp = l.dp;
    o.tp = l.tp;
    o.pp = l.pp;
    o.batch = 4;
    if (l.dp == 2) {  // dp2: one rank's reference grouping is B=4 × 2 micro-batches too
      o.grad_accum = 2;
    }
    const train::PretrainResult r = train::pretrain(o);
    ASSERT_EQ(r.val_losses.size(), r1.val_losses.size()) << l.name;
    for (std::size_t i = 0; i < r1.val_losses.size(); ++i)
      EXPECT_NEAR(r.val_losses[i], r1.val_losses[i], 1e-5 * r1.val_losses[i]) << l.name << " " << i;
    EXPECT_EQ(r.samples, r1.samples) << l.name;
  }
}

}  // namespace
}  // namespace weft
