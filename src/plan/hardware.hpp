// The cluster the planner prices: GPU types (peak FLOP/s, memory, bandwidth), the
// links between them (bandwidth β and latency α for the α–β model), and the node shape.
// Tables are constants; any thread may call these functions.
#pragma once

#include <string>
#include <vector>

namespace weft::plan {

struct GpuSpec {
  std::string name;
  double peak_tensor16 = 0;  // dense bf16/fp16 tensor-core FLOP/s (fp32 accumulate)
  double peak_fp32 = 0;      // dense fp32 (non-tensor) FLOP/s
  double memory_bytes = 0;   // device memory
  double mem_bandwidth = 0;  // device memory bytes/s
  std::string source;        // datasheet the figures come from
};

struct LinkSpec {
  std::string name;
  double bandwidth = 0;  // β: bytes/s per GPU, one direction
  double latency = 0;    // α: seconds per message (software + wire)
};

struct ClusterSpec {
  GpuSpec gpu;
  int gpus = 1;            // total GPUs
  int gpus_per_node = 8;
  LinkSpec intra;          // inside a node (NVLink / PCIe)
  LinkSpec inter;          // between nodes, per GPU (NIC bandwidth · NICs per node / GPUs per node)
  double price_per_gpu_hour = 0;  // USD
};

const std::vector<GpuSpec>& gpu_table();
const std::vector<LinkSpec>& link_table();
// Lookups by name; throw an input error that lists the known names.
GpuSpec gpu_lookup(const std::string& name);
LinkSpec link_lookup(const std::string& name);
// Throws an input error naming the first inconsistent field.
void cluster_validate(const ClusterSpec& c);

}  // namespace weft::plan
