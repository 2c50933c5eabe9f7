// bf16 training tracks fp32: 200 steps of d4 on a noisy bigram source (loss floor well
// above 0, so a relative comparison means something) end within 2% of the fp32 loss,
// and the bf16 run really differs from fp32 (the setting took effect).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/shard_file.hpp"
#include "kernels/cpu/matmul_bf16.hpp"
#include "train/pretrain.hpp"

namespace weft {
namespace {

namespace fs = std::filesystem;

// Tokens over a 64-token vocabulary: half the time next = (7·prev + 3) mod 64, else uniform.
// One directory per test: ctest -j runs these tests at the same time.
std::string make_noisy_bigram_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir = fs::path(::testing::TempDir()) /
                       (std::string("weft_bf16_data_") + info->name() + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  Rng rng(11);
  std::vector<std::uint16_t> tokens(60000);
  std::uint16_t prev = 0;
  for (auto& t : tokens) {
    t = rng.below(2) == 0 ? static_cast<std::uint16_t>((7 * prev + 3) % 64)
                          : static_cast<std::uint16_t>(rng.below(64));
    prev = t;
  }
  data::shard_write((dir / "bigram_train_000.bin").string(), tokens);
  return dir.string();
}

double mean_tail(const std::vector<double>& v, std::size_t n) {
  double s = 0.0;
  for (std::size_t i = v.size() - n; i < v.size(); ++i) s += v[i];
  return s / static_cast<double>(n);
}

TEST(PretrainBf16, D4TracksFp32Within2Percent) {
  if (!cpu::bf16_matmul_available()) GTEST_SKIP() << cpu::bf16_matmul_status();
  train::PretrainOptions o;
  o.model = "d4";
  o.vocab = 64;
  o.max_seq = 32;
  o.data = make_noisy_bigram_dir();
  o.batch = 4;
  o.seq = 32;
  o.steps = 200;
  o.lr = 1e-3;
  o.warmup = 10;
  o.peak_gflops = 1.0;  // skip the sgemm measurement
  o.quiet = true;
  o.overwrite = true;
  const std::string tag = std::to_string(::getpid());
  o.out = (fs::path(::testing::TempDir()) / ("weft_bf16_run_fp32_" + tag)).string();
  const auto fp32 = train::pretrain(o);
  o.precision = "bf16";
  o.out = (fs::path(::testing::TempDir()) / ("weft_bf16_run_bf16_" + tag)).string();
  const auto bf16 = train::pretrain(o);
  ASSERT_EQ(fp32.losses.size(), 200u);
  ASSERT_EQ(bf16.losses.size(), 200u);
  // It learned (uniform is ln 64 = 4.16; the source's entropy is about 2.4 nats).
  EXPECT_LT(mean_tail(fp32.losses, 10), 3.0);
  EXPECT_NE(fp32.losses[0], bf16.losses[0]) << "bf16 run is bitwise fp32: setting ignored?";
  // Step 0 differs only by bf16 rounding of the first forward.
  EXPECT_NEAR(bf16.losses[0], fp32.losses[0], 0.01 * fp32.losses[0]);
  const double a = mean_tail(fp32.losses, 10), b = mean_tail(bf16.losses, 10);
  EXPECT_NEAR(b, a, 0.02 * a) << "final loss fp32 " << a << " vs bf16 " << b;
}

// Step losses of a run's metrics.jsonl (lines with a "loss").
std::vector<double> run_losses(const fs::path& run) {
  std::ifstream in(run / "metrics.jsonl");
  std::vector<double> out;
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json j = nlohmann::json::parse(line);
    if (j.contains("loss")) out.push_back(j["loss"].get<double>());
  }
  return out;
}

// A CPU without native bf16 (simulated: oneDNN capped at plain AVX-512) trains in fp32
// after one notice, exit status 0, with exactly the losses of an fp32 run.
TEST(PretrainBf16, CliFallsBackToFp32WithANotice) {
  const fs::path tmp = fs::path(::testing::TempDir()) /
                       ("weft_bf16_fallback_" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  const std::string data = make_noisy_bigram_dir();
  auto run = [&](const std::string& env, const std::string& precision, const std::string& name) {
    const std::string log = (tmp / (name + ".log")).string();
    const std::string cmd = env + " " + std::string(WEFT_EXE) +
                            " train --model d2 --vocab 64 --max-seq 32 --seq 16 --batch 2 --steps 3"
                            " --peak-gflops 1 --quiet --overwrite --precision " + precision +
                            " --data " + data + " --out " + (tmp / name).string() + " >" + log + " 2>&1";
    const int status = std::system(cmd.c_str());
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << text.str();
    return text.str();
  };
  const std::string fell_back = run("ONEDNN_MAX_CPU_ISA=AVX512_CORE", "bf16", "fallback");
  run("", "fp32", "fp32");
  const std::size_t at = fell_back.find("training in fp32 instead");
  EXPECT_NE(at, std::string::npos) << fell_back;
  EXPECT_EQ(fell_back.find("fp32 instead", at + 24), std::string::npos) << "notice repeated";
  const std::vector<double> a = run_losses(tmp / "fallback"), b = run_losses(tmp / "fp32");
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a, b) << "the fallback run is not the fp32 run";
  fs::remove_all(tmp);
}

TEST(PretrainBf16, UnknownPrecisionIsAnInputError) {
  train::PretrainOptions o;
  o.precision = "fp8";
  o.model = "d2";
  o.vocab = 64;
  o.max_seq = 32;
  o.seq = 16;
  o.data = make_noisy_bigram_dir();
  o.out = (fs::path(::testing::TempDir()) / ("weft_bf16_bad_" + std::to_string(::getpid()))).string();
  o.overwrite = true;
  try {
    train::pretrain(o);
    FAIL() << "fp8 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--precision"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace weft
