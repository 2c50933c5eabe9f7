// Collects the hardware report (see hw_report.hpp) from the per-topic readers.
#include "sys/hw_report.hpp"

namespace weft::sys {

HwReport collect_hw_report(const HwOptions& options) {
  HwReport report;
  report.cpu = read_cpu_info(options.root);
  if (options.live()) add_live_cpu_facts(report.cpu);
  report.memory = read_mem_info(options.root);
  report.gpu = read_gpu_info(options.nvml_library);
  report.software = read_software_info();
  LayoutInputs in;
  in.sockets = report.cpu.sockets;
  in.physical_cores = report.cpu.physical_cores;
  in.logical_cpus = report.cpu.logical_cpus;
  in.threads_per_core = report.cpu.threads_per_core;
  in.numa_nodes = report.memory.numa_nodes;
  in.usable_cpus = report.cpu.usable_cpus;
  report.layout = recommend_layout(in);
  return report;
}

}  // namespace weft::sys
