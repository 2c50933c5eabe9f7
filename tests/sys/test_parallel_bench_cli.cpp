// `weft bench parallel` as a user runs it: --quick --json exits 0 with a JSON
// report; a bad --workers is refused with a message naming the flag.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

namespace {

// Runs a shell command; returns its exit status and stdout.
int run(const std::string& command, std::string* out) {
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out->append(buf, n);
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ParallelBenchCli, QuickJsonRunsAndExitsZero) {
  std::string out;
  ASSERT_EQ(run(std::string(WEFT_EXE) + " bench parallel --quick --json", &out), 0) << out;
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j.at("schema"), "weft.bench.parallel/1");
  EXPECT_EQ(j.at("options").at("quick"), true);
  EXPECT_EQ(j.at("crash").at("process_pool").at("killed_by_sigsegv"), 1);
}

TEST(ParallelBenchCli, ZeroWorkersIsRefused) {
  std::string out;
  EXPECT_NE(run(std::string(WEFT_EXE) + " bench parallel --workers 0 2>&1", &out), 0);
  EXPECT_NE(out.find("--workers"), std::string::npos) << out;
}

}  // namespace
