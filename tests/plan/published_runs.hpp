// Published large runs for weft plan's tests: Narayanan et al. 2021 Tables 1 and 2 (with
// the settings of NVIDIA's reproduction scripts) and the RunSpec that models one row on
// Selene (DGX A100 80 GB, NVLink 3, 8 HDR NICs per node). Header-only, test code.
#pragma once

#include "plan/layout.hpp"

namespace weft::plan::published {

struct MegatronRow {
  double params_b;
  int heads, hidden, layers, tp, pp, gpus, batch;
  double tflops_per_gpu, aggregate_pflops;
  int micro_batch = 1;      // b
  int virtual_stages = 1;   // v > 1: interleaved schedule
  bool dp_overlap = false;  // PyTorch DDP (--DDP-impl torch) instead of Megatron's local DDP
};

// Narayanan et al. 2021 Table 1 (V = 51200, s = 2048, full activation recomputation, A100
// peak 312 TFLOP/s, fp16). The columns b, v and DDP are not in the table: they come from
// the scripts NVIDIA published to reproduce it, Megatron-LM examples/sc21/run_table_1.sh
// (commit 6985e58, 2021-08-18): MBS 16,16,16,8,4,2,2,1,1,1; --num-layers-per-virtual-
// pipeline-stage 5 (76B: 15 layers per stage → v = 3), 5 (145B: v = 2), 3 (310B: v = 2),
// 1 (530B: v = 3), none for 39B and 1T; --DDP-impl torch for the pp = 1 rows, local else.
inline constexpr MegatronRow kTable1[] = {
    {1.7, 24, 2304, 24, 1, 1, 32, 512, 137, 4.4, 16, 1, true},
    {3.6, 32, 3072, 30, 2, 1, 64, 512, 138, 8.8, 16, 1, true},
    {7.5, 32, 4096, 36, 4, 1, 128, 512, 142, 18.2, 16, 1, true},
    {18.4, 48, 6144, 40, 8, 1, 256, 1024, 135, 34.6, 8, 1, true},
    {39.1, 64, 8192, 48, 8, 2, 512, 1536, 138, 70.8, 4, 1, false},
    {76.1, 80, 10240, 60, 8, 4, 1024, 1792, 140, 143.8, 2, 3, false},
    {145.6, 96, 12288, 80, 8, 8, 1536, 2304, 148, 227.1, 2, 2, false},
    {310.1, 128, 16384, 96, 8, 16, 1920, 2160, 155, 297.4, 1, 2, false},
    {529.6, 128, 20480, 105, 8, 35, 2520, 2520, 163, 410.2, 1, 3, false},
    {1008.0, 160, 25600, 128, 8, 64, 3072, 3072, 163, 502.0, 1, 1, false},
};

// Table 1's "percentage of theoretical peak FLOP/s" column, row for row: the whole step's
// executed FLOPs (recomputation included) over 312 TFLOP/s, i.e. a hardware FLOPs
// utilisation, printed to whole percents.
inline constexpr double kTable1PercentOfPeak[] = {44, 44, 46, 43, 44, 45, 47, 50, 52, 52};

// Narayanan et al. 2021 Table 2, PTD-P rows: micro-batch 1, model-parallel size t·p = 96
// (174.6B) and 280 (529.6B); t = 8 as in every multi-node row of Table 1 (p = 12 and 35,
// the 529.6B layout of Table 1). The table does not say which pipeline schedule ran; these
// rows use plain 1F1B and Megatron's local DDP (docs/plan.md shows the interleaved case).
inline constexpr MegatronRow kTable2[] = {
    {174.6, 96, 12288, 96, 8, 12, 384, 1536, 153, 0},
    {174.6, 96, 12288, 96, 8, 12, 768, 1536, 149, 0},
    {174.6, 96, 12288, 96, 8, 12, 1536, 1536, 141, 0},
    {529.6, 128, 20480, 105, 8, 35, 560, 2240, 171, 0},
    {529.6, 128, 20480, 105, 8, 35, 1120, 2240, 167, 0},
    {529.6, 128, 20480, 105, 8, 35, 2240, 2240, 159, 0},
};

inline RunSpec megatron_run(const MegatronRow& row) {
  RunSpec run;
  run.model = {"megatron", row.layers, row.hidden, row.heads, 51200, 2048};
  run.cluster.gpu = gpu_lookup("a100-80gb");  // Selene: DGX A100 80 GB (paper §5)
  run.cluster.gpus = row.gpus;
  run.cluster.gpus_per_node = 8;
  run.cluster.intra = link_lookup("nvlink3");
  run.cluster.inter = link_lookup("ib-hdr");  // Selene: 8 HDR NICs per DGX A100 node
  run.layout.tp = row.tp;
  run.layout.pp = row.pp;
  run.layout.dp = row.gpus / (row.tp * row.pp);
  run.layout.micro_batch = row.micro_batch;
  run.layout.global_batch = row.batch;
  run.layout.recompute = Recompute::kFull;
  run.layout.sequence_parallel = false;  // Korthikanti et al. 2022 came a year later
  if (row.virtual_stages > 1) {
    run.layout.schedule = Schedule::kInterleaved;
    run.layout.virtual_stages = row.virtual_stages;
  }
  run.layout.dp_overlap = row.dp_overlap;
  run.tokens = 300e9;
  run.mfu = row.tflops_per_gpu * 1e12 / run.cluster.gpu.peak_tensor16;  // their measured rate
  return run;
}

}  // namespace weft::plan::published
