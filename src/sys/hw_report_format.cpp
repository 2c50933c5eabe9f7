// Renders the hardware report (see hw_report.hpp): an aligned table for people,
// JSON for scripts. Unknown facts print "unknown" in the table and null in JSON.
#include <cstdio>
#include <sstream>

#include "core/error.hpp"
#include "sys/hw_report.hpp"

namespace weft::sys {

std::string format_bytes(std::int64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 5) {
    value /= 1024.0;
    ++unit;
  }
  char text[32];
  if (unit == 0 || value == static_cast<double>(static_cast<std::int64_t>(value)))
    std::snprintf(text, sizeof(text), "%.0f %s", value, kUnits[unit]);
  else
    std::snprintf(text, sizeof(text), "%.1f %s", value, kUnits[unit]);
  return text;
}

namespace {

const char* kUnknown = "unknown";

template <typename T>
std::string or_unknown(const std::optional<T>& value) {
  if (!value) return kUnknown;
  return str(*value);
}

std::string bytes_or_unknown(const std::optional<std::int64_t>& bytes) {
  return bytes ? format_bytes(*bytes) : kUnknown;
}

std::string mhz_or_unknown(const std::optional<double>& mhz) {
  if (!mhz) return kUnknown;
  char text[32];
  std::snprintf(text, sizeof(text), "%.0f MHz", *mhz);
  return text;
}

std::string cache_line(const CacheLevel& cache) {
  if (!cache.size_bytes && !cache.total_bytes) return kUnknown;
  std::string line = cache.size_bytes ? format_bytes(*cache.size_bytes) : "mixed sizes";
  if (cache.instances) line += str(" x ", *cache.instances);
  if (cache.total_bytes && cache.instances && *cache.instances > 1)
    line += str(" = ", format_bytes(*cache.total_bytes));
  if (cache.source == "cpuid") return line + " (CPUID; instances unknown)";
  if (!cache.instances) line += " (instances unknown)";
  return line;
}

std::string yes_no(const std::optional<bool>& value) {
  if (!value) return kUnknown;
  return *value ? "yes" : "no";
}

std::string isa_line(const CpuInfo& cpu) {
  std::string line;
  for (const auto& feature : cpu.isa) {
    if (!line.empty()) line += ", ";
    line += str(feature.label, " ", yes_no(feature.in_flags));
    if (feature.in_cpuid && feature.in_flags && *feature.in_cpuid != *feature.in_flags)
      line += str(" (CPUID: ", yes_no(feature.in_cpuid), ")");
  }
  return line;
}

std::string hypervisor_line(const CpuInfo& cpu) {
  if (!cpu.virtualised) return kUnknown;
  if (!*cpu.virtualised) return "none (bare metal)";
  if (cpu.hypervisor_vendor) return str("virtualised, ", *cpu.hypervisor_vendor);
  return "virtualised, vendor unknown";
}

class Table {
 public:
  void section(const std::string& title) { out_ << (out_.tellp() > 0 ? "\n" : "") << title << "\n"; }
  void row(const std::string& label, const std::string& value) {
    out_ << "  " << label << std::string(label.size() < 18 ? 18 - label.size() : 1, ' ') << value
         << "\n";
  }
  void text(const std::string& line) { out_ << "  " << line << "\n"; }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

void cpu_rows(Table& t, const CpuInfo& cpu) {
  t.section("CPU");
  t.row("Model", cpu.model_name.value_or(kUnknown));
  t.row("Vendor", cpu.vendor.value_or(kUnknown));
  std::string arch = cpu.architecture.value_or(kUnknown);
  if (!cpu.op_modes.empty()) {
    arch += " (op-modes:";
    for (size_t i = 0; i < cpu.op_modes.size(); ++i) arch += (i ? ", " : " ") + cpu.op_modes[i];
    arch += ")";
  }
  t.row("Architecture", arch);
  t.row("Sockets", or_unknown(cpu.sockets));
  t.row("Physical cores", or_unknown(cpu.physical_cores));
  std::string logical = or_unknown(cpu.logical_cpus);
  if (cpu.usable_cpus) logical += str(" (", *cpu.usable_cpus, " usable by this process)");
  t.row("Logical CPUs", logical);
  t.row("Threads per core", or_unknown(cpu.threads_per_core));
  t.row("L1d cache", cache_line(cpu.caches.l1d));
  t.row("L1i cache", cache_line(cpu.caches.l1i));
  t.row("L2 cache", cache_line(cpu.caches.l2));
  t.row("L3 cache", cache_line(cpu.caches.l3));
  t.row("Base frequency", mhz_or_unknown(cpu.base_mhz));
  t.row("Max frequency", mhz_or_unknown(cpu.max_mhz));
  std::string virt = cpu.virtualization.value_or(kUnknown);
  if (virt == "none") virt = "none (no VT-x or AMD-V flag)";
  t.row("Virtualization", virt);
  t.row("Hypervisor", hypervisor_line(cpu));
  t.row("ISA", isa_line(cpu));
}

void memory_rows(Table& t, const MemInfo& mem) {
  t.section("Memory");
  t.row("Total", bytes_or_unknown(mem.total_bytes));
  t.row("Available", bytes_or_unknown(mem.available_bytes));
  t.row("Swap", str(bytes_or_unknown(mem.swap_total_bytes), " (",
                    bytes_or_unknown(mem.swap_free_bytes), " free)"));
  t.row("Commit limit", str(bytes_or_unknown(mem.commit_limit_bytes), " (",
                            bytes_or_unknown(mem.committed_bytes), " committed now)"));
  t.row("NUMA nodes", or_unknown(mem.numa_nodes));
}

void gpu_rows(Table& t, const GpuInfo& gpu) {
  t.section("GPU");
  if (!gpu.driver_found) {
    t.text(gpu.status);
    return;
  }
  t.row("Driver", gpu.driver_version.value_or(kUnknown));
  t.row("CUDA (driver)",
        gpu.cuda_driver_version ? cuda_version_string(*gpu.cuda_driver_version) : kUnknown);
  if (gpu.devices.empty()) t.text(gpu.status == "ok" ? "no GPUs visible" : gpu.status);
  for (const auto& device : gpu.devices) {
    t.row(str("GPU ", device.index), device.name);
    t.row("  Memory", str(bytes_or_unknown(device.memory_total_bytes), " total, ",
                          bytes_or_unknown(device.memory_used_bytes), " used, ",
                          bytes_or_unknown(device.memory_free_bytes), " free"));
    t.row("  Utilisation", str(or_unknown(device.utilization_gpu_percent), "% GPU, ",
                               or_unknown(device.utilization_memory_percent), "% memory"));
    if (!device.processes) {
      t.row("  Processes", kUnknown);
    } else if (device.processes->empty()) {
      t.row("  Processes", "none");
    } else {
      for (const auto& p : *device.processes)
        t.row("  Process", str(p.pid, " ", p.name.empty() ? "?" : p.name, " ",
                               bytes_or_unknown(p.used_memory_bytes)));
    }
  }
}

void software_rows(Table& t, const SoftwareInfo& sw) {
  t.section("Software");
  t.row("Compiler", sw.compiler);
  t.row("BLAS", str(sw.blas, " (", or_unknown(sw.blas_threads), " threads, ", sw.blas_threading,
                    ")"));
  t.row("OpenMP", str(sw.openmp_version, ", max threads ", sw.openmp_max_threads));
  t.row("MPI", sw.mpi + (sw.mpi_standard ? str(" (MPI ", *sw.mpi_standard, ")") : ""));
  t.row("CUDA runtime", sw.cuda_runtime + (sw.cuda_devices ? str(", ", *sw.cuda_devices,
                                                                 " device(s)")
                                                           : ""));
  t.row("NCCL", sw.nccl);
}

template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json cache_json(const CacheLevel& cache) {
  return {{"size_bytes", or_null(cache.size_bytes)},
          {"instances", or_null(cache.instances)},
          {"total_bytes", or_null(cache.total_bytes)},
          {"source", cache.source.empty() ? nlohmann::json(nullptr) : nlohmann::json(cache.source)}};
}

nlohmann::json cpu_json(const CpuInfo& cpu) {
  nlohmann::json isa = nlohmann::json::object();
  nlohmann::json isa_cpuid = nlohmann::json::object();
  bool probed = false;
  for (const auto& feature : cpu.isa) {
    isa[feature.key] = or_null(feature.in_flags);
    isa_cpuid[feature.key] = or_null(feature.in_cpuid);
    probed = probed || feature.in_cpuid.has_value();
  }
  return {{"model_name", or_null(cpu.model_name)},
          {"vendor", or_null(cpu.vendor)},
          {"architecture", or_null(cpu.architecture)},
          {"op_modes", cpu.op_modes},
          {"sockets", or_null(cpu.sockets)},
          {"physical_cores", or_null(cpu.physical_cores)},
          {"logical_cpus", or_null(cpu.logical_cpus)},
          {"usable_cpus", or_null(cpu.usable_cpus)},
          {"threads_per_core", or_null(cpu.threads_per_core)},
          {"caches",
           {{"l1d", cache_json(cpu.caches.l1d)},
            {"l1i", cache_json(cpu.caches.l1i)},
            {"l2", cache_json(cpu.caches.l2)},
            {"l3", cache_json(cpu.caches.l3)}}},
          {"base_mhz", or_null(cpu.base_mhz)},
          {"max_mhz", or_null(cpu.max_mhz)},
          {"virtualization", or_null(cpu.virtualization)},
          {"virtualised", or_null(cpu.virtualised)},
          {"hypervisor_vendor", or_null(cpu.hypervisor_vendor)},
          {"isa", isa},
          {"isa_cpuid", probed ? isa_cpuid : nlohmann::json(nullptr)}};
}

nlohmann::json gpu_json(const GpuInfo& gpu) {
  nlohmann::json devices = nlohmann::json::array();
  for (const auto& d : gpu.devices) {
    nlohmann::json processes = nullptr;
    if (d.processes) {
      processes = nlohmann::json::array();
      for (const auto& p : *d.processes)
        processes.push_back(
            {{"pid", p.pid}, {"name", p.name}, {"used_memory_bytes", or_null(p.used_memory_bytes)}});
    }
    devices.push_back({{"index", d.index},
                       {"name", d.name},
                       {"memory_total_bytes", or_null(d.memory_total_bytes)},
                       {"memory_used_bytes", or_null(d.memory_used_bytes)},
                       {"memory_free_bytes", or_null(d.memory_free_bytes)},
                       {"utilization_gpu_percent", or_null(d.utilization_gpu_percent)},
                       {"utilization_memory_percent", or_null(d.utilization_memory_percent)},
                       {"processes", processes}});
  }
  return {{"driver_found", gpu.driver_found},
          {"status", gpu.status},
          {"driver_version", or_null(gpu.driver_version)},
          {"cuda_driver_version", gpu.cuda_driver_version
                                      ? nlohmann::json(cuda_version_string(*gpu.cuda_driver_version))
                                      : nlohmann::json(nullptr)},
          {"devices", devices}};
}

}  // namespace

std::string hw_report_table(const HwReport& report) {
  Table t;
  cpu_rows(t, report.cpu);
  memory_rows(t, report.memory);
  gpu_rows(t, report.gpu);
  software_rows(t, report.software);
  t.section("Recommended layout");
  t.row("Ranks x threads", str(report.layout.ranks, " x ", report.layout.threads_per_rank));
  t.row("Why", report.layout.reason);
  t.row("Launch", report.layout.launch);
  return t.str();
}

nlohmann::json hw_report_json(const HwReport& report) {
  const MemInfo& m = report.memory;
  const SoftwareInfo& s = report.software;
  return {{"schema", "weft.hw.v1"},
          {"cpu", cpu_json(report.cpu)},
          {"memory",
           {{"total_bytes", or_null(m.total_bytes)},
            {"available_bytes", or_null(m.available_bytes)},
            {"swap_total_bytes", or_null(m.swap_total_bytes)},
            {"swap_free_bytes", or_null(m.swap_free_bytes)},
            {"commit_limit_bytes", or_null(m.commit_limit_bytes)},
            {"committed_bytes", or_null(m.committed_bytes)},
            {"numa_nodes", or_null(m.numa_nodes)}}},
          {"gpu", gpu_json(report.gpu)},
          {"software",
           {{"compiler", s.compiler},
            {"blas", s.blas},
            {"blas_threads", or_null(s.blas_threads)},
            {"blas_threading", s.blas_threading},
            {"openmp_version", s.openmp_version},
            {"openmp_max_threads", s.openmp_max_threads},
            {"mpi", s.mpi},
            {"mpi_standard", or_null(s.mpi_standard)},
            {"cuda_runtime", s.cuda_runtime},
            {"cuda_devices", or_null(s.cuda_devices)},
            {"nccl", s.nccl}}},
          {"layout",
           {{"ranks", report.layout.ranks},
            {"threads_per_rank", report.layout.threads_per_rank},
            {"reason", report.layout.reason},
            {"launch", report.layout.launch}}}};
}

}  // namespace weft::sys
