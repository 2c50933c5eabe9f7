// The sysfs half of the CPU facts (see cpu_info.hpp): caches from
// cpuN/cache/indexM, frequencies from cpuN/cpufreq, topology when /proc/cpuinfo
// has none. Every missing or malformed file leaves its fact unknown.
#include <filesystem>
#include <map>
#include <set>
#include <system_error>

#include "sys/cpu_info.hpp"
#include "sys/hw_text.hpp"

namespace weft::sys {

namespace {

// Which summary slot an entry belongs to; nullptr for levels we do not report.
CacheLevel* cache_slot(CacheSummary& summary, const CacheEntry& entry) {
  if (!entry.level) return nullptr;
  switch (*entry.level) {
    case 1:
      if (entry.type == "Data") return &summary.l1d;
      if (entry.type == "Instruction") return &summary.l1i;
      return nullptr;
    case 2: return entry.type == "Instruction" ? nullptr : &summary.l2;
    case 3: return entry.type == "Instruction" ? nullptr : &summary.l3;
    default: return nullptr;
  }
}

}  // namespace

CacheSummary summarise_caches(const std::vector<CacheEntry>& entries,
                              const std::vector<int>& all_cpus) {
  struct Group {
    std::map<std::vector<int>, std::optional<std::int64_t>> instances;  // shared list → size
    bool complete = true;  // every entry had a readable shared_cpu_list
  };
  CacheSummary summary;
  std::map<CacheLevel*, Group> groups;
  for (const auto& entry : entries) {
    CacheLevel* slot = cache_slot(summary, entry);
    if (!slot) continue;
    Group& group = groups[slot];
    if (!entry.shared_cpus || entry.shared_cpus->empty()) {
      group.complete = false;
      // Still learn the size, under a key of its own CPU.
      group.instances.emplace(std::vector<int>{-1 - entry.cpu}, entry.size_bytes);
      continue;
    }
    group.instances.emplace(*entry.shared_cpus, entry.size_bytes);
  }
  const std::set<int> wanted(all_cpus.begin(), all_cpus.end());
  for (auto& [slot, group] : groups) {
    std::set<std::int64_t> sizes;
    bool all_sizes = true;
    std::set<int> covered;
    for (const auto& [cpus, size] : group.instances) {
      if (size) sizes.insert(*size); else all_sizes = false;
      covered.insert(cpus.begin(), cpus.end());
    }
    if (sizes.size() == 1) slot->size_bytes = *sizes.begin();
    if (!sizes.empty()) slot->source = "sysfs";
    bool covers = !wanted.empty();
    for (int cpu : wanted) covers = covers && covered.count(cpu) > 0;
    if (!group.complete || !covers) continue;
    slot->instances = static_cast<int>(group.instances.size());
    if (all_sizes) {
      std::int64_t total = 0;
      for (const auto& [cpus, size] : group.instances) total += *size;
      slot->total_bytes = total;
    }
  }
  return summary;
}

namespace {

namespace fs = std::filesystem;

std::vector<CacheEntry> read_cache_entries(const fs::path& cpu_dir, int cpu) {
  std::vector<CacheEntry> entries;
  std::error_code ec;
  fs::directory_iterator it(cpu_dir / "cache", ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("index", 0) != 0) continue;
    CacheEntry entry;
    entry.cpu = cpu;
    if (auto text = read_small_file(it->path() / "level")) {
      if (auto level = parse_int(*text)) entry.level = static_cast<int>(*level);
    }
    if (auto text = read_small_file(it->path() / "type")) entry.type = std::string(trim(*text));
    if (auto text = read_small_file(it->path() / "size")) entry.size_bytes = parse_cache_size(*text);
    if (auto text = read_small_file(it->path() / "shared_cpu_list"))
      entry.shared_cpus = parse_cpu_list(*text);
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::optional<double> read_khz_as_mhz(const fs::path& path) {
  const auto text = read_small_file(path);
  if (!text) return std::nullopt;
  const auto khz = parse_int(*text);
  if (!khz || *khz <= 0) return std::nullopt;
  return static_cast<double>(*khz) / 1000.0;
}

// Sockets and cores from cpuN/topology when /proc/cpuinfo had no "physical id".
void add_sysfs_topology(const fs::path& cpu_root, const std::vector<int>& cpus, CpuInfo& cpu) {
  std::set<std::int64_t> packages;
  std::set<std::pair<std::int64_t, std::int64_t>> cores;
  for (int id : cpus) {
    const fs::path topo = cpu_root / ("cpu" + std::to_string(id)) / "topology";
    const auto package_text = read_small_file(topo / "physical_package_id");
    const auto core_text = read_small_file(topo / "core_id");
    const auto package = package_text ? parse_int(*package_text) : std::nullopt;
    const auto core = core_text ? parse_int(*core_text) : std::nullopt;
    if (!package || !core) return;
    packages.insert(*package);
    cores.emplace(*package, *core);
  }
  if (cores.empty()) return;
  cpu.sockets = static_cast<int>(packages.size());
  cpu.physical_cores = static_cast<int>(cores.size());
  if (cpu.logical_cpus && *cpu.logical_cpus % *cpu.physical_cores == 0)
    cpu.threads_per_core = *cpu.logical_cpus / *cpu.physical_cores;
}

}  // namespace

CpuInfo read_cpu_info(const std::string& root) {
  const auto cpuinfo_text = read_small_file(path_under_root(root, "/proc/cpuinfo"));
  const auto records = cpuinfo_text ? parse_cpuinfo(*cpuinfo_text) : std::vector<CpuinfoRecord>{};
  CpuInfo cpu = cpu_info_from_cpuinfo(records);

  // The CPUs to look at in sysfs: those /proc/cpuinfo lists, else the online list.
  std::vector<int> cpus;
  for (const auto& record : records) {
    const auto it = record.find("processor");
    if (it == record.end()) continue;
    if (auto id = parse_int(it->second); id && *id >= 0) cpus.push_back(static_cast<int>(*id));
  }
  const fs::path cpu_root = path_under_root(root, "/sys/devices/system/cpu");
  if (cpus.empty()) {
    if (auto online = read_small_file(cpu_root / "online")) {
      if (auto list = parse_cpu_list(*online)) cpus = *list;
    }
    if (!cpus.empty()) cpu.logical_cpus = static_cast<int>(cpus.size());
  }
  if (!cpu.physical_cores) add_sysfs_topology(cpu_root, cpus, cpu);

  std::vector<CacheEntry> entries;
  for (int id : cpus) {
    auto more = read_cache_entries(cpu_root / ("cpu" + std::to_string(id)), id);
    entries.insert(entries.end(), more.begin(), more.end());
  }
  cpu.caches = summarise_caches(entries, cpus);

  // Frequencies of the first CPU: intel_pstate gives base_frequency; acpi-cpufreq
  // and amd-pstate give only the range. The name's "@ 2.50GHz" stays as fallback.
  if (!cpus.empty()) {
    const fs::path freq = cpu_root / ("cpu" + std::to_string(cpus.front())) / "cpufreq";
    cpu.max_mhz = read_khz_as_mhz(freq / "cpuinfo_max_freq");
    if (auto base = read_khz_as_mhz(freq / "base_frequency")) cpu.base_mhz = base;
  }
  return cpu;
}

}  // namespace weft::sys
