// `weft hw`: prints the hardware report (sys/hw_report.hpp) as a table or JSON.
// Parsing only; --sysroot and --nvml-lib exist so the same binary can be run on
// fixture trees and without a driver in tests.
#include <cstdio>
#include <memory>

#include "cli/command_registry.hpp"
#include "sys/hw_report.hpp"

namespace {

struct HwArgs {
  bool json = false;
  weft::sys::HwOptions options;
};

WEFT_COMMAND("hw", "Report this machine: CPU, caches, memory, GPUs, software, best local layout",
             100, [](CLI::App& app) -> std::function<int()> {
               auto args = std::make_shared<HwArgs>();
               app.add_flag("--json", args->json, "Print JSON with stable keys (docs/hw.md)");
               app.add_option("--sysroot", args->options.root,
                              "Read /proc and /sys under this folder (for tests)")
                   ->group("");  // hidden
               app.add_option("--nvml-lib", args->options.nvml_library,
                              "NVML library to dlopen (for tests)")
                   ->group("");
               return [args] {
                 const auto report = weft::sys::collect_hw_report(args->options);
                 if (args->json) {
                   std::printf("%s\n", weft::sys::hw_report_json(report).dump(2).c_str());
                 } else {
                   std::printf("%s", weft::sys::hw_report_table(report).c_str());
                 }
                 return 0;
               };
             });

}  // namespace
