// Time and money of a training run: FLOPs per iteration (Narayanan et al. 2021 eq. 3),
// compute at the assumed MFU, communication per axis (comm_model), pipeline bubble
// (p−1)/(m+p−1), or (p−1)/v over m + (p−1)/v for the interleaved schedule, step time,
// days, GPU-hours and cost. Pure; any thread.
#pragma once

#include <string>

#include "plan/layout.hpp"

namespace weft::plan {

// Narayanan et al. 2021 eq. 3 for B sequences: c·B·s·l·h²·(1 + s/(6h) + V/(16·l·h)),
// c = 72 without recomputation (forward + backward), 96 with full recomputation.
// Selective recomputation adds the attention-core forward again: 4·B·s²·h·l.
double flops_per_iteration(const ModelSpec& m, int64_t batch, Recompute r);
// The logits term of eq. 3 alone, c·B·s·h·V/16 (c = 96 with full recomputation, else 72):
// it runs on the last pipeline stage only, so that stage is the slowest.
double logits_flops(const ModelSpec& m, int64_t batch, Recompute r);
// 6·N·D with N = model_params and D = B·s tokens.
double flops_six_nd(const ModelSpec& m, double tokens);

struct TimeReport {
  double flops_model = 0;     // per iteration, without recomputation (for MFU)
  double flops_executed = 0;  // per iteration, what the GPUs run (incl. recomputation)
  double peak = 0;            // per-GPU peak FLOP/s used (tensor16 or fp32)
  int64_t micro_batches = 0;  // m
  // Per micro-batch on one GPU (seconds):
  double mb_compute = 0, mb_tp_comm = 0, mb_pp_comm = 0;
  // Per step (seconds):
  double pipeline = 0;        // (m + (p − 1)/v) · (mb_compute + mb_tp_comm + mb_pp_comm)
  double bubble = 0;          // (p − 1)/v · (...), part of pipeline (v = 1 unless interleaved)
  double bubble_fraction = 0; // (p − 1)/v / (m + (p − 1)/v)
  double dp_comm = 0;         // gradient all-reduce / ZeRO collectives, exposed part
  double dp_comm_hidden = 0;  // the part hidden behind the last backward (--dp-overlap)
  double embedding_comm = 0;  // tied-embedding gradient all-reduce, first ↔ last stage (pp > 1)
  double optimizer = 0;       // memory-bound AdamW update of the local shard
  double step = 0;
  // Whole run:
  double steps = 0;
  double seconds = 0, days = 0, gpu_hours = 0, cost = 0;
  double tflops_per_gpu = 0;  // executed FLOP/s per GPU achieved end to end (Narayanan's metric)
  double mfu_achieved = 0;    // model FLOPs / (step · GPUs · peak)
  double hfu_achieved = 0;    // executed FLOPs / (step · GPUs · peak)
  // Which link each axis uses ("nvlink3", "ib-hdr", ...; "-" when the axis has size 1).
  std::string tp_link, pp_link, dp_link;
};

TimeReport time_estimate(const RunSpec& run);

}  // namespace weft::plan
