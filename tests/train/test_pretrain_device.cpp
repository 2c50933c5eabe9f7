// `weft train --device`: on a machine without a CUDA device (or a build without CUDA)
// `--device cuda` is a configuration error that says so — from the library and as the
// CLI's exit code 3 — and creates no run directory; an unknown device is refused too.
// (On a GPU machine the first two skip; tools/gpu_check.sh trains there.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "data/shard_file.hpp"
#include "train/pretrain.hpp"
#ifdef WEFT_HAVE_CUDA
#include "sys/cuda_runtime_info.hpp"
#endif

namespace weft {
namespace {

namespace fs = std::filesystem;

bool have_gpu() {
#ifdef WEFT_HAVE_CUDA
  return sys::cuda_device_count() > 0;
#else
  return false;
#endif
}

std::string data_dir() {
  const fs::path dir = fs::path(::testing::TempDir()) / ("device_data_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::vector<std::uint16_t> tokens(4000);
  for (std::size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<std::uint16_t>(i % 50);
  data::shard_write((dir / "d_train_000.bin").string(), tokens);
  return dir.string();
}

train::PretrainOptions options(const std::string& device, const std::string& out) {
  train::PretrainOptions o;
  o.model = "d2";
  o.vocab = 64;
  o.max_seq = 32;
  o.data = data_dir();
  o.batch = 2;
  o.seq = 16;
  o.steps = 2;
  o.peak_gflops = 1.0;
  o.device = device;
  o.out = (fs::path(::testing::TempDir()) / out).string();
  fs::remove_all(o.out);
  o.quiet = true;
  return o;
}

TEST(PretrainDevice, CudaWithoutGpuIsAConfigErrorAndWritesNothing) {
  if (have_gpu()) GTEST_SKIP() << "a CUDA device is present (tools/gpu_check.sh trains on it)";
  const train::PretrainOptions o = options("cuda", "device_cuda_run");
  try {
    train::pretrain(o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    EXPECT_NE(std::string(e.what()).find("--device cuda"), std::string::npos) << e.what();
    EXPECT_FALSE(e.hint().empty());
  }
  EXPECT_FALSE(fs::exists(o.out));
}

TEST(PretrainDevice, CliExitCodeIsTheConfigErrorsCode) {
  if (have_gpu()) GTEST_SKIP() << "a CUDA device is present";
  const train::PretrainOptions o = options("cuda", "device_cli_run");
  const std::string cmd = std::string(WEFT_EXE) + " train --model d2 --vocab 64 --max-seq 32 --data " +
                          o.data + " --batch 2 --seq 16 --steps 2 --device cuda --out " + o.out +
                          " > /dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), error_exit_code(ErrorKind::kConfig));
}

TEST(PretrainDevice, UnknownDeviceIsRefused) {
  const train::PretrainOptions o = options("tpu", "device_tpu_run");
  try {
    train::pretrain(o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    EXPECT_NE(std::string(e.what()).find("tpu"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace weft
