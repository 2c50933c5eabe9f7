// CPU facts for `weft hw`: parsed from /proc/cpuinfo and /sys/devices/system/cpu
// under a root prefix, so tests run the same code on fixture trees. Unknown facts
// are empty optionals (printed "unknown"), never errors. Returned by value; any thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weft::sys {

// One block of /proc/cpuinfo ("processor : 0" ... blank line): key → value, trimmed.
using CpuinfoRecord = std::map<std::string, std::string>;

// Splits /proc/cpuinfo text into its per-processor records (pure).
std::vector<CpuinfoRecord> parse_cpuinfo(std::string_view text);

// One cache level summed over the machine, e.g. L2: 512 KiB × 128 instances.
struct CacheLevel {
  std::optional<std::int64_t> size_bytes;   // one instance (unknown if instances differ)
  std::optional<int> instances;             // distinct caches of this level and type
  std::optional<std::int64_t> total_bytes;  // sum over the distinct instances
  std::string source;  // "sysfs", "cpuid" (live fallback: size only), "" when unknown
};

// One cpuN/cache/indexM directory, as read.
struct CacheEntry {
  int cpu = 0;
  std::optional<int> level;
  std::string type;  // "Data", "Instruction", "Unified" ("" when unreadable)
  std::optional<std::int64_t> size_bytes;
  std::optional<std::vector<int>> shared_cpus;
};

struct CacheSummary {
  CacheLevel l1d, l1i, l2, l3;
};

// Instance counts are distinct shared_cpu_lists; they are only known when those
// lists together cover every CPU in `all_cpus` (otherwise a CPU's cache is missing).
CacheSummary summarise_caches(const std::vector<CacheEntry>& entries,
                              const std::vector<int>& all_cpus);

// An ISA feature that matters for training kernels.
struct IsaFeature {
  const char* key;    // stable JSON key, e.g. "avx512_bf16"
  const char* label;  // for people, e.g. "AVX-512-BF16"
  const char* flag;   // its /proc/cpuinfo flag
  std::optional<bool> in_flags;  // from /proc/cpuinfo (nullopt: no flags line)
  std::optional<bool> in_cpuid;  // from CPUID on the live machine (nullopt: not probed)
};
std::array<IsaFeature, 6> isa_feature_table();

struct CpuInfo {
  std::optional<std::string> model_name;
  std::optional<std::string> vendor;        // vendor_id, e.g. "GenuineIntel"
  std::optional<std::string> architecture;  // "x86_64", "i686", "aarch64"
  std::vector<std::string> op_modes;        // "32-bit", "64-bit"; empty = unknown
  std::optional<int> sockets;
  std::optional<int> physical_cores;
  std::optional<int> logical_cpus;      // online CPUs listed in /proc/cpuinfo
  std::optional<int> usable_cpus;       // this process's affinity mask (live only)
  std::optional<int> threads_per_core;  // 2 with Hyper-Threading / SMT
  CacheSummary caches;
  std::optional<double> base_mhz;
  std::optional<double> max_mhz;
  std::optional<std::string> virtualization;  // "VT-x", "AMD-V" or "none"
  std::optional<bool> virtualised;            // running under a hypervisor
  std::optional<std::string> hypervisor_vendor;  // from CPUID (live only)
  std::array<IsaFeature, 6> isa = isa_feature_table();
};

// Facts derivable from /proc/cpuinfo alone (pure): model, vendor, architecture,
// op-modes, topology, flags, virtualization, base MHz from "@ 2.50GHz" in the name.
CpuInfo cpu_info_from_cpuinfo(const std::vector<CpuinfoRecord>& records);

// Everything readable under `root`: /proc/cpuinfo, then sysfs topology (when
// cpuinfo has none), caches and cpufreq. Does not probe the running CPU.
CpuInfo read_cpu_info(const std::string& root);

// Hypervisor name for the 12-byte CPUID leaf 0x40000000 signature
// ("KVMKVMKVM\0\0\0" → "KVM"); the signature itself, trimmed, when not known.
std::string hypervisor_vendor_name(std::string_view signature);

// Adds what only the live machine can say: affinity (usable CPUs), CPUID
// (hypervisor vendor, ISA cross-check, cache sizes where sysfs has none, as in
// many VMs) and uname's architecture when unknown.
void add_live_cpu_facts(CpuInfo& cpu);

}  // namespace weft::sys
