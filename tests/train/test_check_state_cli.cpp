// `weft dev check-state` as a user runs it: OK on the PyTorch fixture (exit 0, JSON
// on stdout), exit 1 with a clear message on a state whose gradient was altered,
// and an input error naming the file on a truncated state.
#include <gtest/gtest.h>
#include <unistd.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

namespace {

const std::string kFixture = std::string(WEFT_FIXTURES_DIR) + "/gpt2/";

struct RunResult {
  int code = -1;
  std::string out, err;
};

// Output files named after the test and process: ctest -j runs these tests at the same time.
RunResult run_weft(const std::string& args) {
  const std::string tag = std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
                          "_" + std::to_string(::getpid());
  const std::string out = ::testing::TempDir() + "weft_cs_out_" + tag + ".txt";
  const std::string err = ::testing::TempDir() + "weft_cs_err_" + tag + ".txt";
  const std::string cmd = std::string(WEFT_EXE) + " " + args + " >" + out + " 2>" + err;
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream o(out), e(err);
  r.out.assign(std::istreambuf_iterator<char>(o), {});
  r.err.assign(std::istreambuf_iterator<char>(e), {});
  return r;
}

std::string copy_with(const std::string& name, std::size_t cut_bytes, long poke_offset) {
  std::ifstream in(kFixture + "state.bin", std::ios::binary);
  std::string b(std::istreambuf_iterator<char>(in), {});
  if (poke_offset >= 0) {
    float v;
    std::memcpy(&v, &b[poke_offset], 4);
    v = v * 1.5f + 0.01f;
    std::memcpy(&b[poke_offset], &v, 4);
  }
  b.resize(b.size() - cut_bytes);
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << b;
  return path;
}

TEST(CheckStateCli, PassesOnFixture) {
  const RunResult r =
      run_weft("dev check-state " + kFixture + "model.bin " + kFixture + "state.bin");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["ok"].get<bool>());
  EXPECT_EQ(j["losses"].size(), 10u);
  EXPECT_TRUE(j["tensors"].contains("grad.qkvw"));
  EXPECT_LE(j["max_loss_err"].get<double>(), 1e-5);
}

TEST(CheckStateCli, FailsOnAlteredGradient) {
  // Last float of the file: a gradient of lnfb.
  const std::string path = copy_with("weft_cs_altered.bin", 0, 455556 - 4);
  const RunResult r = run_weft("dev check-state " + kFixture + "model.bin " + path +
                               " --reference " + kFixture + "reference.json");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("beyond tolerance"), std::string::npos) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j["tensors"]["grad.lnfb"]["ok"].get<bool>());
  EXPECT_TRUE(j["tensors"]["grad.lnfw"]["ok"].get<bool>());
}

TEST(CheckStateCli, TruncatedStateIsAnInputError) {
  const std::string path = copy_with("weft_cs_truncated.bin", 100, -1);
  const RunResult r = run_weft("dev check-state " + kFixture + "model.bin " + path);
  EXPECT_EQ(r.code, 2) << r.err;  // kInput
  EXPECT_NE(r.err.find(path), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
}

}  // namespace
