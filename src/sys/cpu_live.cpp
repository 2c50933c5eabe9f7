// Facts only the running machine can give (see add_live_cpu_facts in cpu_info.hpp):
// the affinity mask, uname's architecture and CPUID (hypervisor vendor from leaf
// 0x40000000, ISA bits as a cross-check of /proc/cpuinfo). Any thread.
#include <sched.h>
#include <sys/utsname.h>

#include <cstring>
#include <utility>

#include "sys/cpu_info.hpp"
#include "sys/hw_text.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define WEFT_HW_X86 1
#endif

namespace weft::sys {

std::string hypervisor_vendor_name(std::string_view signature) {
  static const std::pair<std::string_view, const char*> kKnown[] = {
      {std::string_view("KVMKVMKVM\0\0\0", 12), "KVM"},
      {"Microsoft Hv", "Microsoft Hyper-V"},
      {"VMwareVMware", "VMware"},
      {"XenVMMXenVMM", "Xen"},
      {"TCGTCGTCGTCG", "QEMU (TCG)"},
      {" lrpepyh  vr", "Parallels"},
      {"VBoxVBoxVBox", "VirtualBox"},
      {"ACRNACRNACRN", "ACRN"},
      {"bhyve bhyve ", "bhyve"},
  };
  for (const auto& [sig, name] : kKnown) {
    if (signature == sig) return name;
  }
  std::string printable;
  for (char c : signature) printable += (c >= 0x20 && c < 0x7f) ? c : ' ';
  return std::string(trim(printable));
}

namespace {

#ifdef WEFT_HW_X86
struct CpuidRegs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};

CpuidRegs cpuid(unsigned leaf, unsigned subleaf = 0) {
  CpuidRegs r;
  __cpuid_count(leaf, subleaf, r.a, r.b, r.c, r.d);
  return r;
}

bool bit(unsigned reg, int n) { return ((reg >> n) & 1u) != 0; }

// ISA bits as the CPU reports them, counted only where the OS saves the
// registers they need (XCR0), as the kernel does before listing a flag.
void probe_isa(CpuInfo& cpu) {
  const unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf < 1) return;
  const CpuidRegs l1 = cpuid(1);
  unsigned long long xcr0 = 0;
  if (bit(l1.c, 27)) {  // OSXSAVE: XGETBV is allowed
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = (static_cast<unsigned long long>(hi) << 32) | lo;
  }
  const bool os_avx = (xcr0 & 0x6) == 0x6;         // SSE + AVX state
  const bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;  // opmask + ZMM state
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;  // XTILECFG + XTILEDATA
  CpuidRegs l7, l7s1;
  if (max_leaf >= 7) {
    l7 = cpuid(7, 0);
    if (l7.a >= 1) l7s1 = cpuid(7, 1);
  }
  for (auto& feature : cpu.isa) {
    const std::string_view key = feature.key;
    if (key == "sse4_2") feature.in_cpuid = bit(l1.c, 20);
    else if (key == "fma") feature.in_cpuid = bit(l1.c, 12) && os_avx;
    else if (key == "avx2") feature.in_cpuid = bit(l7.b, 5) && os_avx;
    else if (key == "avx512f") feature.in_cpuid = bit(l7.b, 16) && os_avx512;
    else if (key == "avx512_bf16") feature.in_cpuid = bit(l7s1.a, 5) && os_avx512;
    else if (key == "amx_bf16") feature.in_cpuid = bit(l7.d, 22) && os_amx;
  }
  if (bit(l1.c, 31)) {  // "hypervisor present": leaf 0x40000000 names it
    cpu.virtualised = true;
    const CpuidRegs hv = cpuid(0x40000000);
    char signature[12];
    std::memcpy(signature, &hv.b, 4);
    std::memcpy(signature + 4, &hv.c, 4);
    std::memcpy(signature + 8, &hv.d, 4);
    const std::string name = hypervisor_vendor_name(std::string_view(signature, 12));
    if (!name.empty()) cpu.hypervisor_vendor = name;
  } else if (!cpu.virtualised) {
    cpu.virtualised = false;
  }
}

// Cache sizes from CPUID for levels sysfs did not give (VMs often lack
// cpuN/cache). Sizes only: a guest's CPUID sharing counts describe virtual
// topology, so instance counts stay unknown.
void set_cpuid_cache(CacheLevel& level, std::int64_t bytes) {
  if (level.source.empty() && bytes > 0) {
    level.size_bytes = bytes;
    level.source = "cpuid";
  }
}

void probe_caches(CpuInfo& cpu) {
  const bool intel = cpu.vendor == "GenuineIntel";
  const unsigned max_leaf = __get_cpuid_max(0, nullptr);
  const unsigned max_ext = __get_cpuid_max(0x80000000, nullptr);
  // Deterministic cache parameters: Intel leaf 4, AMD leaf 0x8000001D (same layout).
  const unsigned leaf = intel ? 4u : 0x8000001Du;
  bool found = false;
  if ((intel && max_leaf >= 4) || (!intel && max_ext >= 0x8000001D)) {
    for (unsigned index = 0; index < 16; ++index) {
      const CpuidRegs r = cpuid(leaf, index);
      const unsigned type = r.a & 0x1f;  // 0 = no more caches
      if (type == 0) break;
      found = true;
      const unsigned level = (r.a >> 5) & 0x7;
      const std::int64_t bytes = static_cast<std::int64_t>((r.b >> 22) + 1) *
                                 (((r.b >> 12) & 0x3ff) + 1) * ((r.b & 0xfff) + 1) *
                                 (static_cast<std::int64_t>(r.c) + 1);
      if (level == 1 && type == 1) set_cpuid_cache(cpu.caches.l1d, bytes);
      if (level == 1 && type == 2) set_cpuid_cache(cpu.caches.l1i, bytes);
      if (level == 2 && type != 2) set_cpuid_cache(cpu.caches.l2, bytes);
      if (level == 3 && type != 2) set_cpuid_cache(cpu.caches.l3, bytes);
    }
  }
  if (found || intel) return;
  // AMD's older leaves: L1 in 0x80000005 (KiB), L2 and L3 in 0x80000006.
  if (max_ext >= 0x80000005) {
    const CpuidRegs r = cpuid(0x80000005);
    set_cpuid_cache(cpu.caches.l1d, static_cast<std::int64_t>(r.c >> 24) << 10);
    set_cpuid_cache(cpu.caches.l1i, static_cast<std::int64_t>(r.d >> 24) << 10);
  }
  if (max_ext >= 0x80000006) {
    const CpuidRegs r = cpuid(0x80000006);
    set_cpuid_cache(cpu.caches.l2, static_cast<std::int64_t>(r.c >> 16) << 10);
    set_cpuid_cache(cpu.caches.l3, static_cast<std::int64_t>(r.d >> 18) * (512 << 10));
  }
}
#endif

}  // namespace

void add_live_cpu_facts(CpuInfo& cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cpu.usable_cpus = CPU_COUNT(&set);
  if (!cpu.architecture) {
    utsname name{};
    if (uname(&name) == 0) cpu.architecture = name.machine;
  }
#ifdef WEFT_HW_X86
  probe_isa(cpu);
  probe_caches(cpu);
#endif
}

}  // namespace weft::sys
