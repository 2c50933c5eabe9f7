// The NVML path of `weft hw`: a missing library reports "no NVIDIA driver found";
// a library without NVML's symbols likewise; a fake libnvidia-ml (fake_nvml.c,
// facts fixed there) is read field by field, with init/shutdown balanced.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include "sys/gpu_info.hpp"
#include "sys/hw_report.hpp"

namespace weft::sys {
namespace {

TEST(HwGpu, MissingLibraryMeansNoDriver) {
  const GpuInfo gpu = read_gpu_info("libweft-test-no-such-nvml.so.1");
  EXPECT_FALSE(gpu.driver_found);
  EXPECT_TRUE(gpu.devices.empty());
  EXPECT_EQ(gpu.status.rfind("no NVIDIA driver found", 0), 0u) << gpu.status;
  HwReport report;
  report.gpu = gpu;
  EXPECT_NE(hw_report_table(report).find("no NVIDIA driver found"), std::string::npos);
  EXPECT_EQ(hw_report_json(report)["gpu"]["driver_found"], false);
}

TEST(HwGpu, LibraryWithoutNvmlSymbolsMeansNoDriver) {
  const GpuInfo gpu = read_gpu_info("libm.so.6");
  EXPECT_FALSE(gpu.driver_found);
  EXPECT_NE(gpu.status.find("lacks the NVML entry points"), std::string::npos) << gpu.status;
}

// Keeps the fake loaded across read_gpu_info's own dlopen/dlclose so its counters survive.
struct FakeNvml {
  void* handle = dlopen(WEFT_FAKE_NVML, RTLD_NOW | RTLD_LOCAL);
  ~FakeNvml() {
    if (handle) dlclose(handle);
  }
  int call(const char* name) { return reinterpret_cast<int (*)()>(dlsym(handle, name))(); }
  void set_init_result(int rc) {
    reinterpret_cast<void (*)(int)>(dlsym(handle, "fake_nvml_set_init_result"))(rc);
  }
};

TEST(HwGpu, FakeNvmlReadFieldByField) {
  FakeNvml fake;
  ASSERT_NE(fake.handle, nullptr) << dlerror();
  const GpuInfo gpu = read_gpu_info(WEFT_FAKE_NVML);
  ASSERT_TRUE(gpu.driver_found) << gpu.status;
  EXPECT_EQ(gpu.status, "ok");
  EXPECT_EQ(gpu.driver_version, "565.57.01");
  EXPECT_EQ(gpu.cuda_driver_version, 12070);
  ASSERT_EQ(gpu.devices.size(), 2u);
  const GpuDevice& d0 = gpu.devices[0];
  EXPECT_EQ(d0.name, "NVIDIA GeForce RTX 3060 Laptop GPU");
  EXPECT_EQ(d0.memory_total_bytes, 6LL << 30);
  EXPECT_EQ(d0.memory_used_bytes, 1LL << 30);
  EXPECT_EQ(d0.memory_free_bytes, 5LL << 30);
  EXPECT_EQ(d0.utilization_gpu_percent, 37);
  EXPECT_EQ(d0.utilization_memory_percent, 12);
  ASSERT_TRUE(d0.processes);
  ASSERT_EQ(d0.processes->size(), 70u);  // more than the first buffer: retried
  EXPECT_EQ((*d0.processes)[0].pid, 1000u);
  EXPECT_EQ((*d0.processes)[0].name, "python3");
  EXPECT_EQ((*d0.processes)[0].used_memory_bytes, 1LL << 20);
  EXPECT_EQ((*d0.processes)[69].used_memory_bytes, 70LL << 20);
  EXPECT_EQ((*d0.processes)[1].name, "");  // NVML did not know it
  const GpuDevice& d1 = gpu.devices[1];
  EXPECT_EQ(d1.index, 1);
  EXPECT_EQ(d1.name, "NVIDIA H100 80GB HBM3");
  EXPECT_FALSE(d1.utilization_gpu_percent);  // NOT_SUPPORTED
  ASSERT_TRUE(d1.processes);
  ASSERT_EQ(d1.processes->size(), 1u);
  EXPECT_FALSE((*d1.processes)[0].used_memory_bytes);  // NVML_VALUE_NOT_AVAILABLE
  EXPECT_EQ(fake.call("fake_nvml_init_calls"), 1);
  EXPECT_EQ(fake.call("fake_nvml_shutdown_calls"), 1);

  HwReport report;
  report.gpu = gpu;
  const std::string table = hw_report_table(report);
  EXPECT_NE(table.find("CUDA (driver)     12.7"), std::string::npos) << table;
  EXPECT_NE(table.find("6 GiB total, 1 GiB used, 5 GiB free"), std::string::npos) << table;
  const auto json = hw_report_json(report);
  EXPECT_EQ(json["gpu"]["devices"][0]["memory_total_bytes"], 6LL << 30);
  EXPECT_EQ(json["gpu"]["cuda_driver_version"], "12.7");
  EXPECT_TRUE(json["gpu"]["devices"][1]["utilization_gpu_percent"].is_null());
}

TEST(HwGpu, FakeNvmlInitFailureIsReportedNotThrown) {
  FakeNvml fake;
  ASSERT_NE(fake.handle, nullptr) << dlerror();
  fake.set_init_result(9);  // NVML_ERROR_DRIVER_NOT_LOADED
  const GpuInfo gpu = read_gpu_info(WEFT_FAKE_NVML);
  EXPECT_FALSE(gpu.driver_found);
  EXPECT_NE(gpu.status.find("Driver Not Loaded"), std::string::npos) << gpu.status;
  EXPECT_EQ(fake.call("fake_nvml_shutdown_calls"), 0);  // nothing to shut down
}

}  // namespace
}  // namespace weft::sys
