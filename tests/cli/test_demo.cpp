// `weft demo` option handling that needs no pipeline run: an existing directory is
// never overwritten without --overwrite, and --overwrite refuses a directory that is
// not an earlier demo run. (The whole pipeline: CliDemoQuick in tests/cli/tests.cmake.)
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
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

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(CliDemo, RefusesAnExistingDirectoryAndKeepsItsFiles) {
  const std::string dir = testing::TempDir() + "/demo_existing";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/precious.txt") << "keep me";
  int status = -1;
  std::string out = run_command(std::string(WEFT_EXE) + " demo --quick --out " + dir + " 2>&1", &status);
  EXPECT_NE(status, 0) << out;
  EXPECT_NE(out.find("already exists"), std::string::npos) << out;
  out = run_command(std::string(WEFT_EXE) + " demo --quick --overwrite --out " + dir + " 2>&1", &status);
  EXPECT_NE(status, 0) << out;
  EXPECT_NE(out.find("not a demo run directory"), std::string::npos) << out;
  EXPECT_EQ(read_file(dir + "/precious.txt"), "keep me");
  std::filesystem::remove_all(dir);
}

}  // namespace
