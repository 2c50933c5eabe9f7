// `weft hw` on this machine, checked against values read independently of
// src/sys: sysconf, the `nproc` program, and the weft executable's JSON.
#include <gtest/gtest.h>

#include <cctype>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "sys/hw_report.hpp"

namespace weft::sys {
namespace {

std::string run_and_capture(const std::string& command, int* status = nullptr) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), &pclose);
  if (!pipe) return {};
  std::string out;
  char buffer[4096];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof(buffer), pipe.get())) > 0) out.append(buffer, got);
  const int rc = pclose(pipe.release());
  if (status) *status = rc;
  return out;
}

HwReport live_report() {
  HwOptions options;
  options.nvml_library = "libweft-test-no-such-nvml.so.1";  // GPUs are not under test here
  return collect_hw_report(options);
}

TEST(HwLive, CpuCountsAgreeWithSysconfAndNproc) {
  const HwReport r = live_report();
  ASSERT_TRUE(r.cpu.logical_cpus);
  EXPECT_EQ(*r.cpu.logical_cpus, sysconf(_SC_NPROCESSORS_ONLN));
  // `nproc` prints the CPUs this process may run on (its affinity mask), unless
  // OMP_NUM_THREADS / OMP_THREAD_LIMIT are set (CTest sets the first): unset them.
  const std::string nproc =
      run_and_capture("env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc 2>/dev/null");
  if (!nproc.empty()) {
    ASSERT_TRUE(r.cpu.usable_cpus);
    EXPECT_EQ(*r.cpu.usable_cpus, std::atoi(nproc.c_str()));
  }
  if (r.cpu.physical_cores) {
    EXPECT_LE(*r.cpu.physical_cores, *r.cpu.logical_cpus);
    EXPECT_GE(r.layout.ranks * r.layout.threads_per_rank, 1);
    EXPECT_LE(r.layout.ranks * r.layout.threads_per_rank, *r.cpu.physical_cores);
  }
}

TEST(HwLive, MemoryAgreesWithSysconf) {
  const HwReport r = live_report();
  ASSERT_TRUE(r.memory.total_bytes);
  const double pages = static_cast<double>(sysconf(_SC_PHYS_PAGES));
  const double expected = pages * static_cast<double>(sysconf(_SC_PAGESIZE));
  EXPECT_NEAR(static_cast<double>(*r.memory.total_bytes), expected, 0.01 * expected);
  ASSERT_TRUE(r.memory.available_bytes);
  EXPECT_GT(*r.memory.available_bytes, 0);
  EXPECT_LE(*r.memory.available_bytes, *r.memory.total_bytes);
}

TEST(HwLive, CpuidAgreesWithCpuinfoOnBaseFeatures) {
#if defined(__x86_64__)
  const HwReport r = live_report();
  // SSE4.2, AVX2 and FMA: a kernel has no reason to hide these, so CPUID and
  // /proc/cpuinfo must agree (AVX-512 and AMX may be switched off by the kernel).
  for (const auto& f : r.cpu.isa) {
    const std::string key = f.key;
    if (key != "sse4_2" && key != "avx2" && key != "fma") continue;
    ASSERT_TRUE(f.in_flags && f.in_cpuid) << key;
    EXPECT_EQ(*f.in_flags, *f.in_cpuid) << key;
  }
  // CPUID leaf 1 ECX bit 31 ("hypervisor present"), read here directly, and the
  // "hypervisor" flag as parsed from /proc/cpuinfo say the same.
  unsigned a = 0, b = 0, c = 0, d = 0;
  __cpuid(1, a, b, c, d);
  const CpuInfo files_only = read_cpu_info("/");
  ASSERT_TRUE(files_only.virtualised);
  EXPECT_EQ(*files_only.virtualised, ((c >> 31) & 1u) != 0);
#else
  GTEST_SKIP() << "CPUID cross-check is x86 only";
#endif
}

TEST(HwLive, CacheSizesAgreeWithGlibc) {
  // glibc answers _SC_LEVEL*_CACHE_SIZE from its own CPUID reading on x86 (0 or
  // -1 when it does not know): an independent reference for L1d and L2.
  const HwReport r = live_report();
  const long l1d = sysconf(_SC_LEVEL1_DCACHE_SIZE);
  const long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
  int compared = 0;
  if (l1d > 0 && r.cpu.caches.l1d.size_bytes) {
    EXPECT_EQ(*r.cpu.caches.l1d.size_bytes, l1d) << r.cpu.caches.l1d.source;
    ++compared;
  }
  if (l2 > 0 && r.cpu.caches.l2.size_bytes) {
    EXPECT_EQ(*r.cpu.caches.l2.size_bytes, l2) << r.cpu.caches.l2.source;
    ++compared;
  }
  if (compared == 0) GTEST_SKIP() << "neither glibc nor weft knows the cache sizes here";
}

TEST(HwCli, JsonHasStableKeysAndLiveCounts) {
  int status = -1;
  const std::string out =
      run_and_capture(std::string(WEFT_EXE) + " hw --json --nvml-lib libweft-no-such-nvml.so", &status);
  ASSERT_EQ(status, 0) << out;
  const auto json = nlohmann::json::parse(out);
  for (const char* section : {"cpu", "memory", "gpu", "software", "layout"})
    ASSERT_TRUE(json.contains(section)) << section;
  for (const char* key : {"model_name", "vendor", "architecture", "op_modes", "sockets",
                          "physical_cores", "logical_cpus", "usable_cpus", "threads_per_core",
                          "caches", "base_mhz", "max_mhz", "virtualization", "virtualised",
                          "hypervisor_vendor", "isa", "isa_cpuid"})
    EXPECT_TRUE(json["cpu"].contains(key)) << key;
  for (const char* level : {"l1d", "l1i", "l2", "l3"})
    for (const char* key : {"size_bytes", "instances", "total_bytes", "source"})
      EXPECT_TRUE(json["cpu"]["caches"][level].contains(key)) << level << "." << key;
  for (const char* key : {"sse4_2", "avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16"})
    EXPECT_TRUE(json["cpu"]["isa"].contains(key)) << key;
  for (const char* key : {"total_bytes", "available_bytes", "swap_total_bytes", "swap_free_bytes",
                          "commit_limit_bytes", "committed_bytes", "numa_nodes"})
    EXPECT_TRUE(json["memory"].contains(key)) << key;
  for (const char* key : {"driver_found", "status", "driver_version", "cuda_driver_version", "devices"})
    EXPECT_TRUE(json["gpu"].contains(key)) << key;
  for (const char* key : {"compiler", "blas", "blas_threads", "blas_threading", "openmp_version",
                          "openmp_max_threads", "mpi", "mpi_standard", "cuda_runtime",
                          "cuda_devices", "nccl"})
    EXPECT_TRUE(json["software"].contains(key)) << key;
  for (const char* key : {"ranks", "threads_per_rank", "reason", "launch"})
    EXPECT_TRUE(json["layout"].contains(key)) << key;
  EXPECT_EQ(json["schema"], "weft.hw.v1");
  EXPECT_EQ(json["cpu"]["logical_cpus"].get<long>(), sysconf(_SC_NPROCESSORS_ONLN));
  EXPECT_EQ(json["gpu"]["driver_found"], false);
#ifdef WEFT_HAVE_NCCL
  // A build with NCCL reports the linked library's version, e.g. "2.28.9".
  const std::string nccl = json["software"]["nccl"].get<std::string>();
  EXPECT_TRUE(!nccl.empty() && std::isdigit(static_cast<unsigned char>(nccl[0]))) << nccl;
#else
  EXPECT_EQ(json["software"]["nccl"], "not built");
#endif
}

TEST(HwCli, TableOnFixtureRoot) {
  int status = -1;
  const std::string out = run_and_capture(std::string(WEFT_EXE) + " hw --sysroot " +
                                              WEFT_FIXTURES_DIR + "/hw/laptop_i5_10500h" +
                                              " --nvml-lib libweft-no-such-nvml.so",
                                          &status);
  ASSERT_EQ(status, 0) << out;
  EXPECT_NE(out.find("Intel(R) Core(TM) i5-10500H CPU @ 2.50GHz"), std::string::npos) << out;
  EXPECT_NE(out.find("L2 cache          256 KiB x 6 = 1.5 MiB"), std::string::npos) << out;
  EXPECT_NE(out.find("Ranks x threads   1 x 6"), std::string::npos) << out;
  EXPECT_NE(out.find("no NVIDIA driver found"), std::string::npos) << out;
}

}  // namespace
}  // namespace weft::sys
