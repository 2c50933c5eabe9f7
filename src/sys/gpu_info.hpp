// NVIDIA GPU facts for `weft hw`, read through NVML loaded at run time
// (dlopen, no link dependency), so the same binary runs on machines without a
// driver and reports "no NVIDIA driver found". Returned by value; any thread
// (NVML is initialised and shut down inside each call).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace weft::sys {

struct GpuProcess {
  unsigned pid = 0;
  std::string name;                             // "" when unknown
  std::optional<std::int64_t> used_memory_bytes;  // unknown under some drivers/containers
};

struct GpuDevice {
  int index = 0;
  std::string name;
  std::optional<std::int64_t> memory_total_bytes, memory_used_bytes, memory_free_bytes;
  std::optional<int> utilization_gpu_percent, utilization_memory_percent;
  std::optional<std::vector<GpuProcess>> processes;  // nullopt: NVML could not list them
};

struct GpuInfo {
  bool driver_found = false;
  std::string status;  // "ok", or why there is nothing to report
  std::optional<std::string> driver_version;  // e.g. "565.57.01"
  std::optional<int> cuda_driver_version;     // 1000*major + 10*minor, e.g. 12070
  std::vector<GpuDevice> devices;
};

// `nvml_library` is the name passed to dlopen (tests inject a missing or fake one).
GpuInfo read_gpu_info(const std::string& nvml_library = "libnvidia-ml.so.1");

}  // namespace weft::sys
