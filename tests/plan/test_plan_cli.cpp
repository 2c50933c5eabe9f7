// `weft plan` end to end through the executable: the course note's GPT-3 figures from the
// command line, stable JSON keys, search output, and clear errors for bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace {

struct Result {
  int code;
  std::string out;
};

Result run_weft(const std::string& args) {
  const std::string cmd = std::string(WEFT_EXE) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return {-1, ""};
  std::string out;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(PlanCli, Gpt3OnOneV100FromTheCommandLine) {
  // $4.6M / 355 years of GPU-hours = $1.479 per GPU-hour (see test_plan_published.cpp).
  const Result r = run_weft(
      "plan --preset gpt3-175b --tokens 300e9 --gpu v100 --gpus 1 --tflops 28 --price 1.479 "
      "--flops 6nd --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_NEAR(j["time"]["training_flops_6nd"].get<double>() / 3.14e23, 1.0, 0.01);
  EXPECT_NEAR(j["time"]["total_s"].get<double>() / (365.25 * 86400) / 355.0, 1.0, 0.01);
  EXPECT_NEAR(j["time"]["cost_usd"].get<double>() / 4.6e6, 1.0, 0.01);
  EXPECT_FALSE(j["memory"]["fits"].get<bool>());
  for (const char* key : {"params_bytes", "grads_bytes", "optimizer_bytes", "activations_bytes",
                          "total_bytes", "usable_bytes", "fits", "in_flight_micro_batches"}) {
    EXPECT_TRUE(j["memory"].contains(key)) << key;
  }
  for (const char* key : {"step_s", "days", "gpu_hours", "cost_usd", "bubble_fraction", "dp_comm_s",
                          "micro_batch_tp_comm_s", "micro_batch_pp_comm_s", "tflops_per_gpu"}) {
    EXPECT_TRUE(j["time"].contains(key)) << key;
  }
}

TEST(PlanCli, TextReportSaysWhetherItFits) {
  const Result r = run_weft("plan --preset gpt2-124m --gpu rtx3060-laptop --gpus 1 --global-batch 8 --micro-batch 2");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("-> fits"), std::string::npos) << r.out;
  const Result big = run_weft("plan --preset gpt2-1.5b --gpu rtx3060-laptop --gpus 1 --global-batch 8 --micro-batch 8");
  ASSERT_EQ(big.code, 0) << big.out;
  EXPECT_NE(big.out.find("DOES NOT FIT"), std::string::npos) << big.out;
}

TEST(PlanCli, SearchJsonListsFittingLayoutsFastestFirst) {
  const Result r = run_weft("plan --preset gpt3-6.7b --gpus 16 --gpu a100-40gb --global-batch 256 --search --top 5 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["layouts"].size(), 5u);
  double prev = 0;
  for (const auto& l : j["layouts"]) {
    EXPECT_TRUE(l["memory"]["fits"].get<bool>());
    const int world = l["layout"]["dp"].get<int>() * l["layout"]["tp"].get<int>() * l["layout"]["pp"].get<int>();
    EXPECT_EQ(world, 16);
    EXPECT_GE(l["time"]["step_s"].get<double>(), prev);
    prev = l["time"]["step_s"].get<double>();
  }
}

TEST(PlanCli, BadInputGivesClearErrors) {
  Result r = run_weft("plan --preset gpt9");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("unknown model preset 'gpt9'"), std::string::npos) << r.out;
  r = run_weft("plan --preset gpt2-124m --gpus 8 --tp 5");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("dp*tp*pp"), std::string::npos) << r.out;
  r = run_weft("plan --gpu b300");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("unknown GPU 'b300'"), std::string::npos) << r.out;
  r = run_weft("plan --recompute sometimes");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("--recompute"), std::string::npos) << r.out;
}

TEST(PlanCli, TimelineNeverOverwrites) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("weft_plan_cli_timeline_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "t.svg").string();
  const std::string args = "plan --preset gpt3-1.3b --gpus 8 --pp 4 --dp 2 --global-batch 16 --timeline " + path;
  ASSERT_EQ(run_weft(args).code, 0);
  ASSERT_TRUE(std::filesystem::exists(path));
  const auto size = std::filesystem::file_size(path);
  const Result again = run_weft(args);
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.out.find("already exists"), std::string::npos) << again.out;
  EXPECT_EQ(std::filesystem::file_size(path), size);
  std::filesystem::remove_all(dir);
}

// A tiny custom model so that calibrating it takes well under a second.
const char* kTiny = "--preset d6 --layers 2 --hidden 64 --heads 2 --vocab 256 --seq 16 "
                    "--global-batch 4 --micro-batch 2 --gpus 2 --dp 2 --rank-threads 1 --repeats 2";

TEST(PlanCli, CalibrateOnceThenPredictFromTheSavedRates) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("weft_plan_cli_rates_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string rates = (dir / "rates.json").string();
  const Result cal = run_weft(std::string("plan --calibrate ") + kTiny + " --save-rates " + rates + " --json");
  ASSERT_EQ(cal.code, 0) << cal.out;
  const auto measured = nlohmann::json::parse(cal.out);
  EXPECT_EQ(measured["rates_used"]["compute"], "measured now");
  ASSERT_TRUE(std::filesystem::exists(rates));
  // Reusing the file measures nothing and predicts the same step.
  const Result reuse = run_weft(std::string("plan --rates ") + rates + " " + kTiny + " --json");
  ASSERT_EQ(reuse.code, 0) << reuse.out;
  const auto j = nlohmann::json::parse(reuse.out);
  EXPECT_EQ(j["rates_used"]["compute"], rates);
  EXPECT_EQ(j["rates_used"]["intra_host"], rates);
  EXPECT_DOUBLE_EQ(j["step_s"].get<double>(), measured["step_s"].get<double>());
  EXPECT_GT(j["dp_comm_s"].get<double>(), 0);
  // Never overwrites another file.
  const Result clash = run_weft(std::string("plan --calibrate ") + kTiny + " --save-rates " + rates);
  EXPECT_NE(clash.code, 0);
  EXPECT_NE(clash.out.find("exists"), std::string::npos) << clash.out;
  // A comm-only file (weft bench comm --json): compute is measured, the link read.
  const std::string comm = (dir / "comm.json").string();
  { std::ofstream(comm) << R"({"intra_host": {"alpha_s": 1e-6, "beta_s_per_byte": 1e-10}})"; }
  const Result c = run_weft(std::string("plan --rates ") + comm + " " + kTiny + " --json");
  ASSERT_EQ(c.code, 0) << c.out;
  const auto cj = nlohmann::json::parse(c.out.substr(c.out.find('{')));
  EXPECT_EQ(cj["rates_used"]["intra_host"], comm);
  EXPECT_EQ(cj["rates_used"]["compute"], "measured now");
  // A malformed file: the error names the field, exit code non-zero.
  const std::string bad = (dir / "bad.json").string();
  { std::ofstream(bad) << R"({"comm": {"intra_host": {"alpha_s": 1e-6, "beta_s_per_byte": "fast"}}})"; }
  const Result b = run_weft(std::string("plan --rates ") + bad + " " + kTiny);
  EXPECT_NE(b.code, 0);
  EXPECT_NE(b.out.find("comm.intra_host.beta_s_per_byte"), std::string::npos) << b.out;
  std::filesystem::remove_all(dir);
}

// The interleaved schedule from the command line: Table 1's 310.1B row as run by Megatron-LM
// (examples/sc21/run_table_1.sh: t = 8, p = 16, b = 1, 3 layers per virtual stage → v = 2).
TEST(PlanCli, InterleavedScheduleHalvesTheBubbleAndNamesBadLayouts) {
  const std::string base =
      "plan --preset gpt3-175b --layers 96 --hidden 16384 --heads 128 --vocab 51200 --gpus 1920 "
      "--tp 8 --pp 16 --global-batch 2160 --recompute full --tflops 155 --json";
  const Result plain = run_weft(base);
  const Result inter = run_weft(base + " --schedule interleaved --virtual-stages 2");
  ASSERT_EQ(plain.code, 0) << plain.out;
  ASSERT_EQ(inter.code, 0) << inter.out;
  const auto p = nlohmann::json::parse(plain.out), i = nlohmann::json::parse(inter.out);
  EXPECT_EQ(i["layout"]["schedule"], "interleaved");
  EXPECT_EQ(i["layout"]["virtual_stages"], 2);
  const double m = 2160.0 / 15;  // dp = 1920 / 128 = 15, b = 1
  EXPECT_NEAR(p["time"]["bubble_fraction"].get<double>(), 15.0 / (m + 15), 1e-12);
  EXPECT_NEAR(i["time"]["bubble_fraction"].get<double>(), 7.5 / (m + 7.5), 1e-12);
  EXPECT_GT(i["time"]["tflops_per_gpu"].get<double>(), p["time"]["tflops_per_gpu"].get<double>());
  // 96 layers are not divisible by 16·4; the message names the rule.
  const Result bad = run_weft(base + " --schedule interleaved --virtual-stages 4");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.out.find("not divisible by pp*virtual stages"), std::string::npos) << bad.out;
}

// An end-to-end figure from the command line: Table 1's 1T row at its 52% of peak (HFU).
// The rate per GPU must be 52% of 312 TFLOP/s whatever the overheads, which only move the
// math efficiency weft solves for.
TEST(PlanCli, AchievedHfuSetsTheRateAndSolvesTheMath) {
  const std::string base =
      "plan --preset gpt3-175b --layers 128 --hidden 25600 --heads 160 --vocab 51200 --gpus 3072 "
      "--tp 8 --pp 64 --global-batch 3072 --recompute full --no-sequence-parallel --tokens 450e9";
  const Result r = run_weft(base + " --achieved-hfu 0.52 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["given_utilization"]["basis"], "hfu");
  EXPECT_NEAR(j["time"]["tflops_per_gpu"].get<double>(), 0.52 * 312, 1e-6);
  EXPECT_NEAR(j["time"]["mfu_achieved"].get<double>(), 0.39, 1e-9);  // 3/4: no recomputation
  EXPECT_GT(j["mfu"].get<double>(), 0.52);
  const Result text = run_weft(base + " --achieved-mfu 0.39");
  ASSERT_EQ(text.code, 0) << text.out;
  EXPECT_NE(text.out.find("solved from MFU 0.390 end to end"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("HFU 0.520"), std::string::npos) << text.out;
  // Out of reach, contradictory or meaningless requests: named, non-zero exit.
  const Result high = run_weft(base + " --achieved-hfu 0.95");
  EXPECT_NE(high.code, 0);
  EXPECT_NE(high.out.find("cannot reach HFU 0.95"), std::string::npos) << high.out;
  const Result both = run_weft(base + " --achieved-hfu 0.5 --mfu 0.6");
  EXPECT_NE(both.code, 0);
  EXPECT_NE(both.out.find("do not also give --mfu"), std::string::npos) << both.out;
  const Result search = run_weft("plan --preset gpt3-175b --gpus 1024 --global-batch 1536 --search --achieved-mfu 0.4");
  EXPECT_NE(search.code, 0);
  EXPECT_NE(search.out.find("--search ranks layouts"), std::string::npos) << search.out;
  const Result range = run_weft(base + " --achieved-mfu 1.2");
  EXPECT_NE(range.code, 0);
  EXPECT_NE(range.out.find("must be in (0, 1]"), std::string::npos) << range.out;
}

}  // namespace
