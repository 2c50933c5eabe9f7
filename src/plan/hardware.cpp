// GPU and link tables. Figures are vendor datasheet numbers (dense, no sparsity):
//  - V100 SXM2 32GB: NVIDIA Tesla V100 datasheet (2020): 125 TFLOPS tensor (fp16), 15.7 fp32,
//    900 GB/s HBM2. NVLink 2: 300 GB/s total per GPU = 150 GB/s per direction.
//  - A100 SXM 40/80GB: NVIDIA A100 datasheet (2021): 312 TFLOPS bf16/fp16 tensor, 19.5 fp32,
//    1,555 / 2,039 GB/s. NVLink 3: 600 GB/s total = 300 per direction.
//  - H100 SXM 80GB: NVIDIA H100 datasheet: 1,979 TFLOPS bf16 with sparsity = 989 dense,
//    67 fp32, 3.35 TB/s HBM3. NVLink 4: 900 GB/s total = 450 per direction.
//  - H200 SXM 141GB: NVIDIA H200 datasheet: same compute as H100, 141 GB HBM3e, 4.8 TB/s.
//  - RTX 3060 12GB: GA106, 28 SMs, 1.777 GHz boost; NVIDIA Ampere GA102 whitepaper gives
//    GeForce tensor fp16 with fp32 accumulate = 512 FLOP/clk/SM → 25.5 TFLOPS; fp32
//    3584 cores · 2 · 1.777 GHz = 12.7 TFLOPS; 360 GB/s GDDR6.
//  - RTX 3060 Laptop 6GB: 30 SMs, up to 1.703 GHz (depends on the laptop's TGP) → 26.2 TFLOPS
//    tensor (fp32 accumulate), 13.1 fp32; 336 GB/s GDDR6.
//  - InfiniBand HDR 200 Gb/s = 25 GB/s, NDR 400 Gb/s = 50 GB/s per port (NVIDIA ConnectX-6/7).
//    PCIe 3/4/5 x16: 15.75 / 31.5 / 63 GB/s per direction (PCI-SIG).
// Latencies are typical NCCL small-message figures, an assumption (override with --*-latency).
#include "plan/hardware.hpp"

#include "core/error.hpp"

namespace weft::plan {

namespace {
constexpr double kT = 1e12;
constexpr double kG = 1e9;
constexpr double kUs = 1e-6;
}  // namespace

const std::vector<GpuSpec>& gpu_table() {
  static const std::vector<GpuSpec> table = {
      {"v100", 125 * kT, 15.7 * kT, 32 * kG, 900 * kG, "NVIDIA V100 datasheet (SXM2 32GB)"},
      {"a100-40gb", 312 * kT, 19.5 * kT, 40 * kG, 1555 * kG, "NVIDIA A100 datasheet (SXM 40GB)"},
      {"a100-80gb", 312 * kT, 19.5 * kT, 80 * kG, 2039 * kG, "NVIDIA A100 datasheet (SXM 80GB)"},
      {"h100", 989 * kT, 67 * kT, 80 * kG, 3350 * kG, "NVIDIA H100 datasheet (SXM 80GB)"},
      {"h200", 989 * kT, 67 * kT, 141 * kG, 4800 * kG, "NVIDIA H200 datasheet (SXM 141GB)"},
      {"rtx3060", 25.5 * kT, 12.7 * kT, 12 * kG, 360 * kG, "GA102 whitepaper rates x GA106 (12GB desktop)"},
      {"rtx3060-laptop", 26.2 * kT, 13.1 * kT, 6 * kG, 336 * kG, "GA102 whitepaper rates x laptop GA106 at 1.703 GHz"},
  };
  return table;
}

const std::vector<LinkSpec>& link_table() {
  static const std::vector<LinkSpec> table = {
      {"nvlink2", 150 * kG, 3 * kUs},   {"nvlink3", 300 * kG, 3 * kUs},
      {"nvlink4", 450 * kG, 3 * kUs},   {"pcie3", 15.75 * kG, 5 * kUs},
      {"pcie4", 31.5 * kG, 5 * kUs},    {"pcie5", 63 * kG, 5 * kUs},
      {"ib-hdr", 25 * kG, 5 * kUs},     {"ib-ndr", 50 * kG, 5 * kUs},
      {"eth-100g", 12.5 * kG, 20 * kUs}, {"eth-25g", 3.125 * kG, 20 * kUs},
  };
  return table;
}

GpuSpec gpu_lookup(const std::string& name) {
  std::string known;
  for (const auto& g : gpu_table()) {
    if (g.name == name) return g;
    known += (known.empty() ? "" : ", ") + g.name;
  }
  throw input_error(str("unknown GPU '", name, "'"), str("known GPUs: ", known));
}

LinkSpec link_lookup(const std::string& name) {
  std::string known;
  for (const auto& l : link_table()) {
    if (l.name == name) return l;
    known += (known.empty() ? "" : ", ") + l.name;
  }
  throw input_error(str("unknown link '", name, "'"), str("known links: ", known));
}

void cluster_validate(const ClusterSpec& c) {
  if (c.gpus <= 0) throw input_error(str("cluster gpus must be positive, got ", c.gpus));
  if (c.gpus_per_node <= 0) {
    throw input_error(str("cluster gpus-per-node must be positive, got ", c.gpus_per_node));
  }
  if (c.gpus > c.gpus_per_node && c.gpus % c.gpus_per_node != 0) {
    throw input_error(str("cluster gpus ", c.gpus, " is not a multiple of gpus-per-node ",
                          c.gpus_per_node));
  }
  if (c.intra.bandwidth <= 0 || c.inter.bandwidth <= 0) {
    throw input_error("link bandwidth must be positive");
  }
  if (c.intra.latency < 0 || c.inter.latency < 0) throw input_error("link latency must be >= 0");
  if (c.price_per_gpu_hour < 0) throw input_error("price per GPU-hour must be >= 0");
}

}  // namespace weft::plan
