// `weft hw`: the whole hardware report (CPU, memory, GPUs, software, recommended
// layout), collected under a filesystem root so tests can point it at fixture
// trees, and rendered as an aligned table or as JSON with stable snake_case keys
// (docs/hw.md). Returned by value; call from the main thread.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "sys/cpu_info.hpp"
#include "sys/gpu_info.hpp"
#include "sys/layout_advice.hpp"
#include "sys/mem_info.hpp"
#include "sys/software_info.hpp"

namespace weft::sys {

struct HwOptions {
  std::string root = "/";  // where /proc and /sys are read; "/" = this machine
  std::string nvml_library = "libnvidia-ml.so.1";
  // Only the real root gets the live-only facts (affinity, CPUID, uname).
  bool live() const { return root.empty() || root == "/"; }
};

struct HwReport {
  CpuInfo cpu;
  MemInfo memory;
  GpuInfo gpu;
  SoftwareInfo software;
  LayoutAdvice layout;
};

HwReport collect_hw_report(const HwOptions& options = {});

std::string hw_report_table(const HwReport& report);
nlohmann::json hw_report_json(const HwReport& report);

// "23.5 GiB", "48 KiB", "0 B": binary units, at most one decimal.
std::string format_bytes(std::int64_t bytes);

}  // namespace weft::sys
