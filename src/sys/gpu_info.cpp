// NVML through dlopen (see gpu_info.hpp). The few types and entry points are
// declared here from NVML's documented C API, so weft needs no NVML headers.
#include "sys/gpu_info.hpp"

#include <dlfcn.h>

#include <memory>

#include "core/error.hpp"

namespace weft::sys {

namespace {

// ---- NVML's C API, as documented (nvml.h) -----------------------------------
using nvmlReturn_t = int;  // enum; 0 = NVML_SUCCESS
constexpr nvmlReturn_t kNvmlSuccess = 0;
constexpr nvmlReturn_t kNvmlErrorInsufficientSize = 7;
struct nvmlDevice_st;
using nvmlDevice_t = nvmlDevice_st*;
struct nvmlMemory_t {
  unsigned long long total, free, used;  // bytes
};
struct nvmlUtilization_t {
  unsigned int gpu, memory;  // percent over the last sample period
};
struct nvmlProcessInfo_v1_t {  // nvmlDeviceGetComputeRunningProcesses (unversioned)
  unsigned int pid;
  unsigned long long usedGpuMemory;
};
struct nvmlProcessInfo_v2_t {  // ..._v2 and ..._v3
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId, computeInstanceId;
};
constexpr unsigned long long kNvmlValueNotAvailable = ~0ULL;

using InitFn = nvmlReturn_t (*)();
using ShutdownFn = nvmlReturn_t (*)();
using GetCountFn = nvmlReturn_t (*)(unsigned int*);
using GetHandleFn = nvmlReturn_t (*)(unsigned int, nvmlDevice_t*);
using GetNameFn = nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned int);
using GetMemoryFn = nvmlReturn_t (*)(nvmlDevice_t, nvmlMemory_t*);
using GetDriverVersionFn = nvmlReturn_t (*)(char*, unsigned int);
using GetCudaDriverVersionFn = nvmlReturn_t (*)(int*);
using GetUtilizationFn = nvmlReturn_t (*)(nvmlDevice_t, nvmlUtilization_t*);
using GetProcessesV1Fn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int*, nvmlProcessInfo_v1_t*);
using GetProcessesV2Fn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int*, nvmlProcessInfo_v2_t*);
using GetProcessNameFn = nvmlReturn_t (*)(unsigned int, char*, unsigned int);
using ErrorStringFn = const char* (*)(nvmlReturn_t);
// ------------------------------------------------------------------------------

struct DlCloser {
  void operator()(void* handle) const { dlclose(handle); }
};
using Library = std::unique_ptr<void, DlCloser>;

template <typename Fn>
Fn symbol(void* library, const char* name) {
  return reinterpret_cast<Fn>(dlsym(library, name));
}

struct Nvml {
  InitFn init = nullptr;
  ShutdownFn shutdown = nullptr;
  GetCountFn get_count = nullptr;
  GetHandleFn get_handle = nullptr;
  GetNameFn get_name = nullptr;
  GetMemoryFn get_memory = nullptr;
  GetDriverVersionFn get_driver_version = nullptr;
  GetCudaDriverVersionFn get_cuda_driver_version = nullptr;
  GetUtilizationFn get_utilization = nullptr;
  GetProcessesV2Fn get_processes_v2 = nullptr;  // preferred: newer drivers
  GetProcessesV1Fn get_processes_v1 = nullptr;
  GetProcessNameFn get_process_name = nullptr;
  ErrorStringFn error_string = nullptr;

  std::string why(nvmlReturn_t rc) const {
    return error_string ? str(error_string(rc), " (", rc, ")") : str("NVML error ", rc);
  }
};

std::optional<std::vector<GpuProcess>> list_processes(const Nvml& nvml, nvmlDevice_t device) {
  auto fill = [&](auto get, auto tag) -> std::optional<std::vector<GpuProcess>> {
    using Info = decltype(tag);
    std::vector<Info> infos(64);
    for (int attempt = 0; attempt < 3; ++attempt) {
      unsigned int count = static_cast<unsigned int>(infos.size());
      const nvmlReturn_t rc = get(device, &count, infos.data());
      if (rc == kNvmlErrorInsufficientSize) {  // count now holds what is needed
        infos.resize(count + 16);
        continue;
      }
      if (rc != kNvmlSuccess) return std::nullopt;
      std::vector<GpuProcess> out;
      for (unsigned int i = 0; i < count && i < infos.size(); ++i) {
        GpuProcess process;
        process.pid = infos[i].pid;
        if (infos[i].usedGpuMemory != kNvmlValueNotAvailable)
          process.used_memory_bytes = static_cast<std::int64_t>(infos[i].usedGpuMemory);
        char name[256] = {};
        if (nvml.get_process_name &&
            nvml.get_process_name(process.pid, name, sizeof(name)) == kNvmlSuccess)
          process.name = name;
        out.push_back(std::move(process));
      }
      return out;
    }
    return std::nullopt;
  };
  if (nvml.get_processes_v2) return fill(nvml.get_processes_v2, nvmlProcessInfo_v2_t{});
  if (nvml.get_processes_v1) return fill(nvml.get_processes_v1, nvmlProcessInfo_v1_t{});
  return std::nullopt;
}

GpuDevice read_device(const Nvml& nvml, unsigned int index, nvmlDevice_t device) {
  GpuDevice out;
  out.index = static_cast<int>(index);
  char name[96] = {};  // NVML_DEVICE_NAME_V2_BUFFER_SIZE
  out.name = nvml.get_name(device, name, sizeof(name)) == kNvmlSuccess ? name : "unknown";
  nvmlMemory_t memory{};
  if (nvml.get_memory && nvml.get_memory(device, &memory) == kNvmlSuccess) {
    out.memory_total_bytes = static_cast<std::int64_t>(memory.total);
    out.memory_used_bytes = static_cast<std::int64_t>(memory.used);
    out.memory_free_bytes = static_cast<std::int64_t>(memory.free);
  }
  nvmlUtilization_t utilization{};
  if (nvml.get_utilization && nvml.get_utilization(device, &utilization) == kNvmlSuccess) {
    out.utilization_gpu_percent = static_cast<int>(utilization.gpu);
    out.utilization_memory_percent = static_cast<int>(utilization.memory);
  }
  out.processes = list_processes(nvml, device);
  return out;
}

}  // namespace

GpuInfo read_gpu_info(const std::string& nvml_library) {
  GpuInfo info;
  Library library(dlopen(nvml_library.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!library) {
    const char* why = dlerror();
    info.status = str("no NVIDIA driver found (", why ? why : nvml_library.c_str(), ")");
    return info;
  }
  void* lib = library.get();
  Nvml nvml;
  nvml.init = symbol<InitFn>(lib, "nvmlInit_v2");
  nvml.shutdown = symbol<ShutdownFn>(lib, "nvmlShutdown");
  nvml.get_count = symbol<GetCountFn>(lib, "nvmlDeviceGetCount_v2");
  nvml.get_handle = symbol<GetHandleFn>(lib, "nvmlDeviceGetHandleByIndex_v2");
  nvml.get_name = symbol<GetNameFn>(lib, "nvmlDeviceGetName");
  nvml.get_memory = symbol<GetMemoryFn>(lib, "nvmlDeviceGetMemoryInfo");
  nvml.get_driver_version = symbol<GetDriverVersionFn>(lib, "nvmlSystemGetDriverVersion");
  nvml.get_cuda_driver_version =
      symbol<GetCudaDriverVersionFn>(lib, "nvmlSystemGetCudaDriverVersion");
  nvml.get_utilization = symbol<GetUtilizationFn>(lib, "nvmlDeviceGetUtilizationRates");
  nvml.get_processes_v2 =
      symbol<GetProcessesV2Fn>(lib, "nvmlDeviceGetComputeRunningProcesses_v3");
  nvml.get_processes_v1 = symbol<GetProcessesV1Fn>(lib, "nvmlDeviceGetComputeRunningProcesses");
  nvml.get_process_name = symbol<GetProcessNameFn>(lib, "nvmlSystemGetProcessName");
  nvml.error_string = symbol<ErrorStringFn>(lib, "nvmlErrorString");
  if (!nvml.init || !nvml.shutdown || !nvml.get_count || !nvml.get_handle || !nvml.get_name) {
    info.status = str("no NVIDIA driver found (", nvml_library, " lacks the NVML entry points)");
    return info;
  }
  if (const nvmlReturn_t rc = nvml.init(); rc != kNvmlSuccess) {
    info.status = str("no NVIDIA driver found (nvmlInit failed: ", nvml.why(rc), ")");
    return info;
  }
  info.driver_found = true;
  info.status = "ok";
  char driver[96] = {};  // NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE is 80
  if (nvml.get_driver_version && nvml.get_driver_version(driver, sizeof(driver)) == kNvmlSuccess)
    info.driver_version = driver;
  int cuda_version = 0;
  if (nvml.get_cuda_driver_version &&
      nvml.get_cuda_driver_version(&cuda_version) == kNvmlSuccess)
    info.cuda_driver_version = cuda_version;
  unsigned int count = 0;
  if (const nvmlReturn_t rc = nvml.get_count(&count); rc != kNvmlSuccess) {
    info.status = str("NVML could not count GPUs: ", nvml.why(rc));
    count = 0;
  }
  for (unsigned int i = 0; i < count; ++i) {
    nvmlDevice_t device = nullptr;
    if (nvml.get_handle(i, &device) != kNvmlSuccess) continue;  // e.g. no permission
    info.devices.push_back(read_device(nvml, i, device));
  }
  nvml.shutdown();
  return info;
}

}  // namespace weft::sys
