// `weft hw` on fixture copies of /proc and /sys (tests/fixtures/hw/, see its
// README): every field against values derived by hand from those files, stated
// next to each check. The same reader code runs on the live machine with root "/".
#include <gtest/gtest.h>

#include <string>

#include "sys/hw_report.hpp"

namespace weft::sys {
namespace {

const std::string kHw = std::string(WEFT_FIXTURES_DIR) + "/hw/";
constexpr std::int64_t kKiB = 1024;

HwReport fixture_report(const std::string& machine) {
  HwOptions options;
  options.root = kHw + machine;
  options.nvml_library = "libweft-test-no-such-nvml.so.1";
  return collect_hw_report(options);
}

// isa[] order: sse4_2, avx2, fma, avx512f, avx512_bf16, amx_bf16.
std::vector<std::optional<bool>> isa_flags(const CpuInfo& cpu) {
  std::vector<std::optional<bool>> out;
  for (const auto& f : cpu.isa) out.push_back(f.in_flags);
  return out;
}

TEST(HwFixtureLaptop, I5_10500H) {
  const HwReport r = fixture_report("laptop_i5_10500h");
  const CpuInfo& c = r.cpu;
  EXPECT_EQ(c.model_name, "Intel(R) Core(TM) i5-10500H CPU @ 2.50GHz");
  EXPECT_EQ(c.vendor, "GenuineIntel");
  EXPECT_EQ(c.architecture, "x86_64");  // "lm" in flags
  EXPECT_EQ(c.op_modes, (std::vector<std::string>{"32-bit", "64-bit"}));
  EXPECT_EQ(c.logical_cpus, 12);      // 12 "processor" blocks
  EXPECT_EQ(c.sockets, 1);            // physical id always 0
  EXPECT_EQ(c.physical_cores, 6);     // core id 0..5
  EXPECT_EQ(c.threads_per_core, 2);   // 12 / 6
  EXPECT_FALSE(c.usable_cpus);        // live-only fact
  // cpuN/cache: index0/1 32K shared by {n, n+6} → 6 instances; index2 256K likewise;
  // index3 12288K shared by 0-11 → 1 instance.
  EXPECT_EQ(c.caches.l1d.size_bytes, 32 * kKiB);
  EXPECT_EQ(c.caches.l1d.instances, 6);
  EXPECT_EQ(c.caches.l1d.total_bytes, 192 * kKiB);
  EXPECT_EQ(c.caches.l1i.size_bytes, 32 * kKiB);
  EXPECT_EQ(c.caches.l1i.instances, 6);
  EXPECT_EQ(c.caches.l2.size_bytes, 256 * kKiB);
  EXPECT_EQ(c.caches.l2.instances, 6);
  EXPECT_EQ(c.caches.l2.total_bytes, 1536 * kKiB);
  EXPECT_EQ(c.caches.l3.size_bytes, 12288 * kKiB);
  EXPECT_EQ(c.caches.l3.instances, 1);
  EXPECT_EQ(c.caches.l3.total_bytes, 12288 * kKiB);
  EXPECT_EQ(c.caches.l3.source, "sysfs");
  EXPECT_EQ(c.base_mhz, 2500.0);  // cpufreq/base_frequency 2500000 kHz
  EXPECT_EQ(c.max_mhz, 4500.0);   // cpufreq/cpuinfo_max_freq 4500000 kHz
  EXPECT_EQ(c.virtualization, "VT-x");  // "vmx" flag
  EXPECT_EQ(c.virtualised, false);      // no "hypervisor" flag
  EXPECT_FALSE(c.hypervisor_vendor);
  EXPECT_EQ(isa_flags(c), (std::vector<std::optional<bool>>{true, true, true, false, false, false}));
  for (const auto& f : c.isa) EXPECT_FALSE(f.in_cpuid);  // never probed off the live machine

  const MemInfo& m = r.memory;
  EXPECT_EQ(m.total_bytes, 16206272 * kKiB);
  EXPECT_EQ(m.available_bytes, 10731856 * kKiB);
  EXPECT_EQ(m.swap_total_bytes, 2097148 * kKiB);
  EXPECT_EQ(m.swap_free_bytes, 2097148 * kKiB);
  EXPECT_EQ(m.commit_limit_bytes, 10200284 * kKiB);  // = 16206272/2 + 2097148 (overcommit ratio 50)
  EXPECT_EQ(m.committed_bytes, 12986312 * kKiB);
  EXPECT_EQ(m.numa_nodes, 1);  // node0 only

  // One socket, one node: 1 rank; 6 physical cores → 6 threads; SMT noted.
  EXPECT_EQ(r.layout.ranks, 1);
  EXPECT_EQ(r.layout.threads_per_rank, 6);
  EXPECT_NE(r.layout.reason.find("SMT"), std::string::npos);
  EXPECT_EQ(r.layout.launch, "OMP_NUM_THREADS=6 weft <command>");
}

TEST(HwFixtureEpyc, TwoSocket7742Nps4) {
  const HwReport r = fixture_report("epyc_7742_2s");
  const CpuInfo& c = r.cpu;
  EXPECT_EQ(c.model_name, "AMD EPYC 7742 64-Core Processor");
  EXPECT_EQ(c.vendor, "AuthenticAMD");
  EXPECT_EQ(c.architecture, "x86_64");
  EXPECT_EQ(c.logical_cpus, 256);     // 2 sockets x 64 cores x 2 threads
  EXPECT_EQ(c.sockets, 2);            // physical id 0 and 1
  EXPECT_EQ(c.physical_cores, 128);   // (physical id, core id 0..63) pairs
  EXPECT_EQ(c.threads_per_core, 2);
  // L1d/L1i 32K and L2 512K per core, shared by {n, n+128}: 128 instances;
  // L3 16384K per CCX of 4 cores: 128 / 4 = 32 instances.
  EXPECT_EQ(c.caches.l1d.size_bytes, 32 * kKiB);
  EXPECT_EQ(c.caches.l1d.instances, 128);
  EXPECT_EQ(c.caches.l1d.total_bytes, 4096 * kKiB);
  EXPECT_EQ(c.caches.l1i.instances, 128);
  EXPECT_EQ(c.caches.l2.size_bytes, 512 * kKiB);
  EXPECT_EQ(c.caches.l2.instances, 128);
  EXPECT_EQ(c.caches.l2.total_bytes, 64 * 1024 * kKiB);
  EXPECT_EQ(c.caches.l3.size_bytes, 16384 * kKiB);
  EXPECT_EQ(c.caches.l3.instances, 32);
  EXPECT_EQ(c.caches.l3.total_bytes, 512 * 1024 * kKiB);
  EXPECT_FALSE(c.base_mhz);        // no base_frequency, no "@ GHz" in the name
  EXPECT_EQ(c.max_mhz, 2250.0);    // acpi-cpufreq cpuinfo_max_freq 2250000 kHz
  EXPECT_EQ(c.virtualization, "AMD-V");  // "svm" flag
  EXPECT_EQ(c.virtualised, false);
  EXPECT_EQ(isa_flags(c), (std::vector<std::optional<bool>>{true, true, true, false, false, false}));

  const MemInfo& m = r.memory;
  EXPECT_EQ(m.total_bytes, 1056499264 * kKiB);
  EXPECT_EQ(m.available_bytes, 1012765440 * kKiB);
  EXPECT_EQ(m.swap_total_bytes, 8388604 * kKiB);
  EXPECT_EQ(m.swap_free_bytes, 8388604 * kKiB);
  EXPECT_EQ(m.commit_limit_bytes, 536638236 * kKiB);  // = 1056499264/2 + 8388604
  EXPECT_EQ(m.committed_bytes, 23876548 * kKiB);
  EXPECT_EQ(m.numa_nodes, 8);  // node0..node7 (NPS4)

  // 8 NUMA nodes divide 128 cores: 8 ranks x 16 threads, bound per node.
  EXPECT_EQ(r.layout.ranks, 8);
  EXPECT_EQ(r.layout.threads_per_rank, 16);
  EXPECT_NE(r.layout.reason.find("NUMA node"), std::string::npos);
  EXPECT_EQ(r.layout.launch,
            "OMP_NUM_THREADS=16 mpirun -np 8 --map-by numa --bind-to numa weft <command>");
}

TEST(HwFixtureKvm, TwoVcpuGuestWithoutCacheOrCpufreq) {
  const HwReport r = fixture_report("kvm_2vcpu");
  const CpuInfo& c = r.cpu;
  EXPECT_EQ(c.model_name, "AMD EPYC");
  EXPECT_EQ(c.vendor, "AuthenticAMD");
  EXPECT_EQ(c.architecture, "x86_64");
  EXPECT_EQ(c.logical_cpus, 2);
  EXPECT_EQ(c.sockets, 1);           // physical id 0
  EXPECT_EQ(c.physical_cores, 2);    // core id 0 and 1 (siblings 2 = cpu cores 2)
  EXPECT_EQ(c.threads_per_core, 1);
  // No cpuN/cache folders in this guest: every cache is unknown, not zero.
  for (const CacheLevel* cache : {&c.caches.l1d, &c.caches.l1i, &c.caches.l2, &c.caches.l3}) {
    EXPECT_FALSE(cache->size_bytes);
    EXPECT_FALSE(cache->instances);
    EXPECT_FALSE(cache->total_bytes);
    EXPECT_EQ(cache->source, "");  // CPUID fills these only on the live machine
  }
  EXPECT_FALSE(c.base_mhz);  // no cpufreq, name "AMD EPYC" has no "@ GHz"
  EXPECT_FALSE(c.max_mhz);
  EXPECT_EQ(c.virtualization, "none");  // neither vmx nor svm passed through
  EXPECT_EQ(c.virtualised, true);       // "hypervisor" flag
  EXPECT_FALSE(c.hypervisor_vendor);    // CPUID is only asked on the live machine
  EXPECT_EQ(isa_flags(c), (std::vector<std::optional<bool>>{true, true, true, true, true, false}));

  const MemInfo& m = r.memory;
  EXPECT_EQ(m.total_bytes, 24683620 * kKiB);
  EXPECT_EQ(m.available_bytes, 23290220 * kKiB);
  EXPECT_EQ(m.swap_total_bytes, 0);
  EXPECT_EQ(m.swap_free_bytes, 0);
  EXPECT_EQ(m.commit_limit_bytes, 12341808 * kKiB);  // = 24683620/2, no swap
  EXPECT_EQ(m.committed_bytes, 1114460 * kKiB);
  EXPECT_EQ(m.numa_nodes, 1);

  EXPECT_EQ(r.layout.ranks, 1);
  EXPECT_EQ(r.layout.threads_per_rank, 2);
  EXPECT_EQ(r.layout.reason.find("SMT"), std::string::npos);  // no siblings to mention

  const std::string table = hw_report_table(r);
  EXPECT_NE(table.find("L1d cache         unknown"), std::string::npos) << table;
  EXPECT_NE(table.find("Max frequency     unknown"), std::string::npos) << table;
  EXPECT_NE(table.find("virtualised, vendor unknown"), std::string::npos) << table;
  const auto json = hw_report_json(r);
  EXPECT_TRUE(json["cpu"]["caches"]["l2"]["size_bytes"].is_null());
  EXPECT_TRUE(json["cpu"]["hypervisor_vendor"].is_null());
  EXPECT_TRUE(json["cpu"]["isa_cpuid"].is_null());
  EXPECT_EQ(json["cpu"]["virtualised"], true);
}

TEST(HwFixtureOdd, BrokenFilesBecomeUnknown) {
  const HwReport r = fixture_report("odd");
  const CpuInfo& c = r.cpu;
  EXPECT_EQ(c.logical_cpus, 4);  // 4 processor blocks; stray lines ignored
  EXPECT_EQ(c.model_name, "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz");
  EXPECT_FALSE(c.sockets);  // no physical id, no sysfs topology
  EXPECT_FALSE(c.physical_cores);
  EXPECT_FALSE(c.threads_per_core);
  EXPECT_FALSE(c.architecture);  // no flags line
  EXPECT_TRUE(c.op_modes.empty());
  EXPECT_FALSE(c.virtualization);
  EXPECT_FALSE(c.virtualised);
  for (const auto& f : c.isa) EXPECT_FALSE(f.in_flags);
  // index0: size "garbage", no shared_cpu_list → L1d unknown; index1 empty → L1i unknown;
  // index2: 256K shared by CPU 0 only, CPUs 1-3 have no cache folder → instances unknown;
  // index3: 35840K shared by 0-3 → 1 instance.
  EXPECT_FALSE(c.caches.l1d.size_bytes);
  EXPECT_FALSE(c.caches.l1d.instances);
  EXPECT_FALSE(c.caches.l1i.size_bytes);
  EXPECT_EQ(c.caches.l2.size_bytes, 256 * kKiB);
  EXPECT_FALSE(c.caches.l2.instances);
  EXPECT_EQ(c.caches.l3.size_bytes, 35840 * kKiB);
  EXPECT_EQ(c.caches.l3.instances, 1);
  EXPECT_EQ(c.base_mhz, 2400.0);  // from "@ 2.40GHz": no cpufreq base_frequency
  EXPECT_FALSE(c.max_mhz);        // cpuinfo_max_freq reads "n/a"
  const MemInfo& m = r.memory;
  EXPECT_EQ(m.total_bytes, 8000000 * kKiB);
  EXPECT_FALSE(m.available_bytes);     // "lots kB"
  EXPECT_FALSE(m.swap_total_bytes);    // no value
  EXPECT_FALSE(m.commit_limit_bytes);  // negative
  EXPECT_FALSE(m.numa_nodes);          // no node folder
  // Topology unknown: 1 rank, one thread per logical CPU.
  EXPECT_EQ(r.layout.ranks, 1);
  EXPECT_EQ(r.layout.threads_per_rank, 4);
  const std::string table = hw_report_table(r);
  EXPECT_NE(table.find("256 KiB (instances unknown)"), std::string::npos) << table;
  EXPECT_NE(table.find("Sockets           unknown"), std::string::npos) << table;
}

TEST(HwFixtureOdd, EmptyRootIsAllUnknownNoCrash) {
  const HwReport r = fixture_report("no-such-machine");
  EXPECT_FALSE(r.cpu.logical_cpus);
  EXPECT_FALSE(r.cpu.model_name);
  EXPECT_FALSE(r.memory.total_bytes);
  EXPECT_FALSE(r.memory.numa_nodes);
  EXPECT_EQ(r.layout.ranks, 1);
  EXPECT_EQ(r.layout.threads_per_rank, 1);
  EXPECT_NE(hw_report_table(r).find("Model             unknown"), std::string::npos);
  EXPECT_NO_THROW(hw_report_json(r).dump());
}

TEST(HwLayout, OtherShapes) {
  // 2 sockets, NUMA unknown: one rank per socket, 24 cores → 12 each.
  LayoutInputs two_socket{2, 24, 48, 2, std::nullopt, std::nullopt};
  LayoutAdvice a = recommend_layout(two_socket);
  EXPECT_EQ(a.ranks, 2);
  EXPECT_EQ(a.threads_per_rank, 12);
  EXPECT_NE(a.launch.find("--map-by socket"), std::string::npos);
  // 3 NUMA nodes do not divide 16 cores: fall back to the 2 sockets.
  LayoutInputs uneven{2, 16, 32, 2, 3, std::nullopt};
  a = recommend_layout(uneven);
  EXPECT_EQ(a.ranks, 2);
  EXPECT_EQ(a.threads_per_rank, 8);
  // A cpuset of 4 of 12 CPUs on an SMT2 laptop: 1 rank, 4 / 2 = 2 threads.
  LayoutInputs limited{1, 6, 12, 2, 1, 4};
  a = recommend_layout(limited);
  EXPECT_EQ(a.ranks, 1);
  EXPECT_EQ(a.threads_per_rank, 2);
  EXPECT_NE(a.reason.find("only 4 of 12"), std::string::npos);
}

}  // namespace
}  // namespace weft::sys
