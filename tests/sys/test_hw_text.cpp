// Pure parsers of the hardware report: CPU lists, cache sizes, /proc/cpuinfo and
// /proc/meminfo text, cache summaries, hypervisor signatures, byte formatting.
// Expected values are worked out by hand in each test.
#include <gtest/gtest.h>

#include "sys/cpu_info.hpp"
#include "sys/hw_report.hpp"
#include "sys/hw_text.hpp"
#include "sys/mem_info.hpp"

namespace weft::sys {
namespace {

TEST(HwText, CpuListRangesAndSingles) {
  EXPECT_EQ(parse_cpu_list("0-3,8,10-11\n"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(parse_cpu_list("5"), (std::vector<int>{5}));
  EXPECT_EQ(parse_cpu_list("3,1,1-2"), (std::vector<int>{1, 2, 3}));  // sorted, deduplicated
  EXPECT_FALSE(parse_cpu_list(""));
  EXPECT_FALSE(parse_cpu_list("\n"));
  EXPECT_FALSE(parse_cpu_list("3-1"));
  EXPECT_FALSE(parse_cpu_list("a-b"));
  EXPECT_FALSE(parse_cpu_list("0-99999999"));  // absurd range refused, not allocated
  EXPECT_FALSE(parse_cpu_list("1,,2"));
}

TEST(HwText, CacheSizeUnits) {
  EXPECT_EQ(parse_cache_size("32K\n"), 32 * 1024);
  EXPECT_EQ(parse_cache_size("12288K"), 12288LL * 1024);
  EXPECT_EQ(parse_cache_size("1M"), 1024 * 1024);
  EXPECT_EQ(parse_cache_size("512"), 512);
  EXPECT_FALSE(parse_cache_size("garbage"));
  EXPECT_FALSE(parse_cache_size("K"));
  EXPECT_FALSE(parse_cache_size("-4K"));
}

TEST(HwText, IntegersAndTrim) {
  EXPECT_EQ(parse_int(" 42\n"), 42);
  EXPECT_FALSE(parse_int("42x"));
  EXPECT_FALSE(parse_int(""));
  EXPECT_EQ(trim("\t a b \n"), "a b");
}

TEST(HwText, MissingFileIsNulloptNotError) {
  EXPECT_FALSE(read_small_file("/no/such/file/anywhere"));
  EXPECT_FALSE(read_small_file("/"));  // a directory
  EXPECT_EQ(path_under_root("/tmp/fx", "/proc/cpuinfo").string(), "/tmp/fx/proc/cpuinfo");
  EXPECT_EQ(path_under_root("/", "/proc/cpuinfo").string(), "/proc/cpuinfo");
}

TEST(HwCpuinfo, SplitsRecordsAndKeepsVmxFlagsApart) {
  const auto records = parse_cpuinfo(
      "processor\t: 0\nflags\t\t: fpu lm avx2\nvmx flags\t: ept vpid\n\n"
      "processor\t: 1\nflags\t\t: fpu lm avx2\npower management:\n\n\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].at("flags"), "fpu lm avx2");
  EXPECT_EQ(records[0].at("vmx flags"), "ept vpid");
  EXPECT_EQ(records[1].at("power management"), "");
  const CpuInfo cpu = cpu_info_from_cpuinfo(records);
  EXPECT_EQ(cpu.logical_cpus, 2);
  EXPECT_EQ(cpu.architecture, "x86_64");
  EXPECT_EQ(cpu.isa[1].key, std::string("avx2"));
  EXPECT_EQ(cpu.isa[1].in_flags, true);
  EXPECT_EQ(cpu.isa[3].in_flags, false);   // avx512f
  EXPECT_EQ(cpu.virtualization, "none");  // "ept" in vmx flags is not "vmx"
  EXPECT_FALSE(cpu.physical_cores);       // no physical id / core id
}

TEST(HwCpuinfo, ThirtyTwoBitWithoutLm) {
  const CpuInfo cpu = cpu_info_from_cpuinfo(parse_cpuinfo("processor : 0\nflags : fpu sse2\n"));
  EXPECT_EQ(cpu.architecture, "i686");
  EXPECT_EQ(cpu.op_modes, std::vector<std::string>{"32-bit"});
}

TEST(HwMeminfo, KilobytesBecomeBytesCountsStay) {
  const auto values = parse_meminfo(
      "MemTotal:       24683620 kB\nHugePages_Total:       3\nBad line\nSwapTotal:\n");
  EXPECT_EQ(values.at("MemTotal"), 24683620LL * 1024);
  EXPECT_EQ(values.at("HugePages_Total"), 3);
  EXPECT_EQ(values.count("SwapTotal"), 0u);
  EXPECT_EQ(values.size(), 2u);
}

TEST(HwCaches, HybridSizesGiveTotalButNoSingleSize) {
  // Two P-cores with 1.25 MiB L2 each and one E-core cluster (CPUs 2-5) with 2 MiB:
  // 3 instances, total 1.25 + 1.25 + 2 = 4.5 MiB, no one per-instance size.
  std::vector<CacheEntry> entries;
  for (int cpu : {0, 1}) entries.push_back({cpu, 2, "Unified", 1280 * 1024, std::vector<int>{cpu}});
  for (int cpu : {2, 3, 4, 5}) entries.push_back({cpu, 2, "Unified", 2048 * 1024, std::vector<int>{2, 3, 4, 5}});
  const CacheSummary s = summarise_caches(entries, {0, 1, 2, 3, 4, 5});
  EXPECT_EQ(s.l2.instances, 3);
  EXPECT_EQ(s.l2.total_bytes, (1280 + 1280 + 2048) * 1024LL);
  EXPECT_FALSE(s.l2.size_bytes);
  EXPECT_FALSE(s.l1d.size_bytes);
}

TEST(HwCaches, UncoveredCpuMakesInstancesUnknown) {
  // CPU 1's cache folder is missing: we cannot tell whether it shares CPU 0's L2.
  const std::vector<CacheEntry> entries = {{0, 2, "Unified", 256 * 1024, std::vector<int>{0}}};
  const CacheSummary s = summarise_caches(entries, {0, 1});
  EXPECT_EQ(s.l2.size_bytes, 256 * 1024);
  EXPECT_FALSE(s.l2.instances);
  EXPECT_FALSE(s.l2.total_bytes);
}

TEST(HwHypervisor, KnownSignaturesAndFallback) {
  EXPECT_EQ(hypervisor_vendor_name(std::string_view("KVMKVMKVM\0\0\0", 12)), "KVM");
  EXPECT_EQ(hypervisor_vendor_name("Microsoft Hv"), "Microsoft Hyper-V");
  EXPECT_EQ(hypervisor_vendor_name("VMwareVMware"), "VMware");
  EXPECT_EQ(hypervisor_vendor_name("bhyve bhyve "), "bhyve");
  EXPECT_EQ(hypervisor_vendor_name(std::string_view("NewHV\0\0\0\0\0\0\0", 12)), "NewHV");
  EXPECT_EQ(hypervisor_vendor_name(std::string_view("\0\0\0\0\0\0\0\0\0\0\0\0", 12)), "");
}

TEST(HwFormat, BinaryUnits) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(32768), "32 KiB");
  EXPECT_EQ(format_bytes(1536LL * 1024), "1.5 MiB");
  EXPECT_EQ(format_bytes(16LL << 30), "16 GiB");
}

}  // namespace
}  // namespace weft::sys
