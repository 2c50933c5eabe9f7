// `weft demo` as a user runs it: exits 0 and prints the hardware report and the
// threads-vs-processes recommendation.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

namespace {

std::string run_command(const std::string& cmd, int* status) {
  std::string out;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  *status = pclose(pipe);
  return out;
}

TEST(CliDemo, PrintsHardwareReportAndMeasuredRecommendation) {
  int status = -1;
  const std::string out = run_command(std::string(WEFT_EXE) + " demo 2>&1", &status);
  ASSERT_EQ(status, 0) << out;
  EXPECT_NE(out.find("Recommended layout"), std::string::npos) << out;
  EXPECT_NE(out.find("Logical CPUs"), std::string::npos) << out;
  EXPECT_NE(out.find("Recommendation"), std::string::npos) << out;
}

}  // namespace
