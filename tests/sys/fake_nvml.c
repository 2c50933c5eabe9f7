/* A stand-in libnvidia-ml for tests (built by tests/sys/tests.cmake): two GPUs
 * with fixed facts, so the NVML path of `weft hw` runs without a driver. It
 * follows NVML's documented C API for the entry points weft calls. Device 0 has
 * 70 processes (more than weft's first buffer of 64: exercises the retry).
 * fake_nvml_* functions let the test see and steer the calls. */
#include <string.h>

typedef struct {
  int index;
} fake_device;
static fake_device devices[2] = {{0}, {1}};
static int init_calls, shutdown_calls, init_result;

typedef struct {
  unsigned long long total, free, used;
} fake_memory;
typedef struct {
  unsigned int gpu, memory;
} fake_utilization;
typedef struct {
  unsigned int pid;
  unsigned long long used;
  unsigned int gpu_instance, compute_instance;
} fake_process_v3;

int fake_nvml_init_calls(void) { return init_calls; }
int fake_nvml_shutdown_calls(void) { return shutdown_calls; }
void fake_nvml_set_init_result(int rc) { init_result = rc; }

int nvmlInit_v2(void) {
  ++init_calls;
  return init_result;
}
int nvmlShutdown(void) {
  ++shutdown_calls;
  return 0;
}
const char* nvmlErrorString(int rc) { return rc == 9 ? "Driver Not Loaded" : "Unknown Error"; }
int nvmlDeviceGetCount_v2(unsigned int* count) {
  *count = 2;
  return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, fake_device** device) {
  if (index >= 2) return 2; /* NVML_ERROR_INVALID_ARGUMENT */
  *device = &devices[index];
  return 0;
}
int nvmlDeviceGetName(fake_device* device, char* name, unsigned int length) {
  const char* names[2] = {"NVIDIA GeForce RTX 3060 Laptop GPU", "NVIDIA H100 80GB HBM3"};
  strncpy(name, names[device->index], length - 1);
  name[length - 1] = 0;
  return 0;
}
int nvmlDeviceGetMemoryInfo(fake_device* device, fake_memory* memory) {
  const unsigned long long gib = 1ULL << 30;
  memory->total = device->index == 0 ? 6 * gib : 80 * gib;
  memory->used = device->index == 0 ? 1 * gib : 0;
  memory->free = memory->total - memory->used;
  return 0;
}
int nvmlSystemGetDriverVersion(char* version, unsigned int length) {
  strncpy(version, "565.57.01", length - 1);
  version[length - 1] = 0;
  return 0;
}
int nvmlSystemGetCudaDriverVersion(int* version) {
  *version = 12070;
  return 0;
}
int nvmlDeviceGetUtilizationRates(fake_device* device, fake_utilization* u) {
  if (device->index == 1) return 3; /* NVML_ERROR_NOT_SUPPORTED */
  u->gpu = 37;
  u->memory = 12;
  return 0;
}
int nvmlDeviceGetComputeRunningProcesses_v3(fake_device* device, unsigned int* count,
                                            fake_process_v3* infos) {
  const unsigned int have = device->index == 0 ? 70 : 1;
  if (*count < have) {
    *count = have;
    return 7; /* NVML_ERROR_INSUFFICIENT_SIZE */
  }
  for (unsigned int i = 0; i < have; ++i) {
    infos[i].pid = 1000 + i;
    infos[i].used = device->index == 0 ? (i + 1) * (1ULL << 20) : ~0ULL; /* not available */
    infos[i].gpu_instance = infos[i].compute_instance = 0xFFFFFFFFu;
  }
  *count = have;
  return 0;
}
int nvmlSystemGetProcessName(unsigned int pid, char* name, unsigned int length) {
  if (pid != 1000) return 6; /* NVML_ERROR_NOT_FOUND */
  strncpy(name, "python3", length - 1);
  name[length - 1] = 0;
  return 0;
}
