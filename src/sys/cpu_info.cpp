// /proc/cpuinfo parsing and the CPU facts it alone determines (see cpu_info.hpp).
// Pure functions on text and records: the tests feed them fixture files.
#include <cstdlib>
#include <set>
#include <utility>

#include "sys/cpu_info.hpp"
#include "sys/hw_text.hpp"

namespace weft::sys {

std::vector<CpuinfoRecord> parse_cpuinfo(std::string_view text) {
  std::vector<CpuinfoRecord> records;
  CpuinfoRecord current;
  auto flush = [&] {
    if (!current.empty()) records.push_back(std::move(current));
    current.clear();
  };
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (trim(line).empty()) {
      flush();
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // not "key : value": ignore
    const std::string key(trim(line.substr(0, colon)));
    if (key.empty()) continue;
    current.emplace(key, std::string(trim(line.substr(colon + 1))));
  }
  flush();
  return records;
}

std::array<IsaFeature, 6> isa_feature_table() {
  return {{
      {"sse4_2", "SSE4.2", "sse4_2", {}, {}},
      {"avx2", "AVX2", "avx2", {}, {}},
      {"fma", "FMA", "fma", {}, {}},
      {"avx512f", "AVX-512F", "avx512f", {}, {}},
      {"avx512_bf16", "AVX-512-BF16", "avx512_bf16", {}, {}},
      {"amx_bf16", "AMX-BF16", "amx_bf16", {}, {}},
  }};
}

namespace {

const std::string* find_field(const CpuinfoRecord& record, const char* key) {
  const auto it = record.find(key);
  return it == record.end() ? nullptr : &it->second;
}

// First value of `key` over all records (ARM puts some fields in a trailing block).
std::optional<std::string> first_field(const std::vector<CpuinfoRecord>& records,
                                       const char* key) {
  for (const auto& record : records) {
    if (const std::string* value = find_field(record, key); value && !value->empty()) return *value;
  }
  return std::nullopt;
}

std::set<std::string, std::less<>> split_flags(const std::string& flags) {
  std::set<std::string, std::less<>> out;
  size_t pos = 0;
  while (pos < flags.size()) {
    const size_t start = flags.find_first_not_of(" \t", pos);
    if (start == std::string::npos) break;
    const size_t end = flags.find_first_of(" \t", start);
    out.emplace(flags.substr(start, end - start));
    pos = end == std::string::npos ? flags.size() : end;
  }
  return out;
}

// "Intel(R) Core(TM) i5-10500H CPU @ 2.50GHz" → 2500.
std::optional<double> mhz_from_model_name(const std::string& name) {
  const size_t at = name.rfind('@');
  if (at == std::string::npos) return std::nullopt;
  const std::string rest(trim(std::string_view(name).substr(at + 1)));
  char* end = nullptr;
  const double value = std::strtod(rest.c_str(), &end);
  if (end == rest.c_str() || value <= 0) return std::nullopt;
  const std::string_view unit = trim(end);
  if (unit == "GHz") return value * 1000.0;
  if (unit == "MHz") return value;
  return std::nullopt;
}

void add_topology(const std::vector<CpuinfoRecord>& records, CpuInfo& cpu) {
  std::set<std::string> packages;
  std::set<std::pair<std::string, std::string>> cores;
  for (const auto& record : records) {
    if (!find_field(record, "processor")) continue;
    const std::string* package = find_field(record, "physical id");
    const std::string* core = find_field(record, "core id");
    if (!package || !core) return;  // incomplete: leave the topology unknown
    packages.insert(*package);
    cores.emplace(*package, *core);
  }
  if (cores.empty()) return;
  cpu.sockets = static_cast<int>(packages.size());
  cpu.physical_cores = static_cast<int>(cores.size());
}

}  // namespace

CpuInfo cpu_info_from_cpuinfo(const std::vector<CpuinfoRecord>& records) {
  CpuInfo cpu;
  int processors = 0;
  for (const auto& record : records) processors += find_field(record, "processor") ? 1 : 0;
  if (processors > 0) cpu.logical_cpus = processors;
  cpu.model_name = first_field(records, "model name");
  cpu.vendor = first_field(records, "vendor_id");
  add_topology(records, cpu);
  if (cpu.physical_cores && cpu.logical_cpus && *cpu.logical_cpus % *cpu.physical_cores == 0)
    cpu.threads_per_core = *cpu.logical_cpus / *cpu.physical_cores;

  // x86 lists its features as "flags"; other architectures differ ("Features" on
  // ARM) and have none of the features below under these names.
  const auto flags_text = first_field(records, "flags");
  if (flags_text) {
    const auto flags = split_flags(*flags_text);
    const bool has_lm = flags.count("lm") > 0;
    cpu.architecture = has_lm ? "x86_64" : "i686";
    cpu.op_modes = has_lm ? std::vector<std::string>{"32-bit", "64-bit"}
                          : std::vector<std::string>{"32-bit"};
    for (auto& feature : cpu.isa) feature.in_flags = flags.count(feature.flag) > 0;
    cpu.virtualization = flags.count("vmx") ? "VT-x" : flags.count("svm") ? "AMD-V" : "none";
    cpu.virtualised = flags.count("hypervisor") > 0;
  }
  if (cpu.model_name) cpu.base_mhz = mhz_from_model_name(*cpu.model_name);
  return cpu;
}

}  // namespace weft::sys
