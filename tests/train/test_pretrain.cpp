// Single-rank training: the loss of a tiny model falls on a synthetic shard,
// runs are bitwise reproducible (and a different seed differs), metrics.jsonl has
// one complete object per step, runs are never overwritten, --init-from loads the
// saved model; the LR schedule against its closed form.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/shard_file.hpp"
#include "data/shard_reader_simple.hpp"
#include "train/lr_schedule.hpp"
#include "train/pretrain.hpp"

namespace weft {
namespace {

namespace fs = std::filesystem;

// A shard of a repeating 40-token pattern over a 64-token vocabulary: learnable.
std::string make_data_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  Rng rng(5);
  std::vector<std::uint16_t> pattern(40), tokens;
  for (auto& t : pattern) t = static_cast<std::uint16_t>(rng.below(64));
  for (int i = 0; i < 200; ++i) tokens.insert(tokens.end(), pattern.begin(), pattern.end());
  data::shard_write((dir / "syn_train_000.bin").string(), tokens);
  data::shard_write((dir / "syn_val_000.bin").string(),
                    std::vector<std::uint16_t>(tokens.begin(), tokens.begin() + 1000));
  return dir.string();
}

train::PretrainOptions tiny(const std::string& data, const std::string& out) {
  train::PretrainOptions o;
  o.model = "d2";
  o.vocab = 64;
  o.max_seq = 32;
  o.data = data;
  o.batch = 4;
  o.seq = 16;
  o.steps = 25;
  o.lr = 3e-3;
  o.warmup = 2;
  o.threads = 1;
  o.peak_gflops = 1.0;  // skip the sgemm measurement
  o.out = (fs::path(::testing::TempDir()) / out).string();
  o.quiet = true;
  o.overwrite = true;
  return o;
}

TEST(Pretrain, LossFallsAndMetricsAreWritten) {
  train::PretrainOptions o = tiny(make_data_dir("weft_pt_a"), "weft_pt_run_a");
  o.val_every = 10;
  o.val_batches = 2;
  o.sample_every = 25;
  const train::PretrainResult r = train::pretrain(o);
  ASSERT_EQ(r.losses.size(), 25u);
  EXPECT_NEAR(r.losses[0], std::log(64.0), 0.3);  // near uniform at init
  EXPECT_LT(r.losses.back(), r.losses[0] - 1.5);
  ASSERT_EQ(r.val_losses.size(), 3u);  // steps 10, 20, 25
  EXPECT_LT(r.val_losses.back(), r.val_losses.front());
  std::ifstream in(fs::path(o.out) / "metrics.jsonl");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    const nlohmann::json j = nlohmann::json::parse(line);
    ++n;
    EXPECT_EQ(j["step"].get<int>(), n);
    for (const char* k : {"loss", "lr", "grad_norm", "ms", "tokens_per_s", "mfu"})
      EXPECT_TRUE(j.contains(k) && j[k].is_number()) << k;
    EXPECT_EQ(j["loss"].get<double>(), r.losses[n - 1]);
  }
  EXPECT_EQ(n, 25);
  EXPECT_TRUE(fs::exists(fs::path(o.out) / "model.bin"));
}

TEST(Pretrain, SameSeedIsBitwiseIdenticalOtherSeedDiffers) {
  const std::string data = make_data_dir("weft_pt_b");
  train::PretrainOptions o = tiny(data, "weft_pt_run_b");
  o.steps = 6;
  o.grad_accum = 2;
  const auto a = train::pretrain(o);
  const auto b = train::pretrain(o);
  ASSERT_EQ(a.losses.size(), b.losses.size());
  for (std::size_t i = 0; i < a.losses.size(); ++i) EXPECT_EQ(a.losses[i], b.losses[i]) << i;
  o.seed += 1;
  const auto c = train::pretrain(o);
  EXPECT_NE(a.losses[0], c.losses[0]);
}

TEST(Pretrain, InitFromLoadsTheSavedModel) {
  const std::string data = make_data_dir("weft_pt_c");
  train::PretrainOptions o = tiny(data, "weft_pt_run_c");
  const auto first = train::pretrain(o);
  train::PretrainOptions again = tiny(data, "weft_pt_run_c2");
  again.init_from = (fs::path(o.out) / "model.bin").string();
  again.steps = 1;
  const auto second = train::pretrain(again);
  // Starts where the first run ended, far below a fresh model's ln(64) ≈ 4.16.
  EXPECT_LT(second.losses[0], first.losses[0] - 1.5);
}

TEST(Pretrain, RefusesToOverwriteARunAndBadOptions) {
  const std::string data = make_data_dir("weft_pt_d");
  train::PretrainOptions o = tiny(data, "weft_pt_run_d");
  o.steps = 1;
  train::pretrain(o);
  const std::string before = [&] {
    std::ifstream in(fs::path(o.out) / "metrics.jsonl");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  o.overwrite = false;
  EXPECT_THROW(train::pretrain(o), Error);
  std::ifstream in(fs::path(o.out) / "metrics.jsonl");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), before);
  train::PretrainOptions bad = tiny(data, "weft_pt_run_e");
  bad.seq = 64;  // > max_seq 32
  EXPECT_THROW(train::pretrain(bad), Error);
  bad = tiny(data, "weft_pt_run_e");
  bad.vocab = 16;  // the shard holds ids up to 63
  EXPECT_THROW(train::pretrain(bad), Error);
}

TEST(ShardReaderSimple, WindowsShiftByOneAndWrap) {
  const fs::path dir = fs::path(::testing::TempDir()) / "weft_pt_reader";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<std::uint16_t> t(23);
  for (int i = 0; i < 23; ++i) t[i] = static_cast<std::uint16_t>(i);
  data::shard_write((dir / "a.bin").string(), t);
  data::ShardReaderSimple r(data::shard_list(dir.string(), "train"), 2, 5, 100);
  std::int32_t x[10], y[10];
  r.next(x, y);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(x[i], i);
    EXPECT_EQ(y[i], i + 1);
  }
  r.next(x, y);
  EXPECT_EQ(x[0], 10);
  r.next(x, y);  // 20 + 11 > 23: wraps to the start
  EXPECT_EQ(x[0], 0);
  EXPECT_THROW(data::ShardReaderSimple(data::shard_list(dir.string(), "train"), 4, 8, 100), Error);
}

TEST(LrSchedule, WarmupThenCosineToTheFloor) {
  const train::LrSchedule s{1.0, 4, 14, 0.1};
  EXPECT_DOUBLE_EQ(s.at(0), 0.25);
  EXPECT_DOUBLE_EQ(s.at(3), 1.0);
  EXPECT_DOUBLE_EQ(s.at(4), 1.0);
  EXPECT_NEAR(s.at(13), 0.1, 1e-12);
  // Halfway through the decay (r = 0.5): midway between peak and floor.
  const train::LrSchedule h{1.0, 0, 11, 0.0};
  EXPECT_NEAR(h.at(5), 0.5, 1e-12);
}

}  // namespace
}  // namespace weft
