// A run to be priced: model, cluster, parallel layout and assumptions, and the
// validation that names the exact mismatch (torchtitan's ParallelDims, in words).
// Plain values; any thread may call these functions.
#pragma once

#include <cstdint>
#include <string>

#include "plan/hardware.hpp"
#include "plan/model_spec.hpp"

namespace weft::plan {

enum class Recompute { kNone, kSelective, kFull };
// 1F1B = PipeDream-Flush; interleaved = Narayanan et al. 2021 §2.2.2: each device holds
// `virtual_stages` model chunks, the bubble shrinks by v and the pipeline sends grow by v.
enum class Schedule { k1F1B, kGPipe, kInterleaved };
// How training FLOPs are counted: Narayanan et al. 2021 eq. 3 (matmuls incl. attention
// and logits, ×4/3 under full recomputation) or the 6·N·D rule (Kaplan et al. 2020).
enum class FlopsRule { kNarayanan, kSixND };
// What a given efficiency measures: the math kernels alone (weft adds bubble and
// communication on top), or a whole step's model FLOPs (MFU) or executed FLOPs (HFU).
enum class Utilization { kMath, kModelFlops, kHardwareFlops };

struct Layout {
  int dp = 1, tp = 1, pp = 1;
  int64_t micro_batch = 1;   // b, sequences per micro-batch
  int64_t global_batch = 0;  // B, sequences per step; m = B / (dp·b) micro-batches
  int zero = 0;              // ZeRO stage 0..3 (sharding across the dp group)
  Recompute recompute = Recompute::kNone;
  Schedule schedule = Schedule::k1F1B;
  int virtual_stages = 1;        // v, model chunks per device (interleaved schedule only)
  // Gradient all-reduce (ZeRO 0/1) overlapped with the last micro-batch's backward, as
  // PyTorch DDP's buckets do; off = after the backward (Megatron-LM's local DDP of 2021).
  bool dp_overlap = false;
  bool mixed = true;             // bf16/fp16 with fp32 master weights vs plain fp32
  bool sequence_parallel = true; // Korthikanti et al. 2022 (only matters when tp > 1)
};

struct RunSpec {
  ModelSpec model;
  ClusterSpec cluster;
  Layout layout;
  double tokens = 0;              // training tokens D
  double mfu = 0.4;               // fraction of peak the math kernels reach
  // When the user gave an end-to-end MFU or HFU instead: what and how much. `mfu` is then
  // solved from it (plan/achieved_efficiency.hpp) and the report says so.
  struct Given {
    Utilization basis = Utilization::kMath;
    double value = 0;
  } given;
  double mem_usable = 0.9;        // fraction of device memory the allocator may use
  FlopsRule flops_rule = FlopsRule::kNarayanan;
};

std::string recompute_name(Recompute r);
std::string schedule_name(Schedule s);
std::string utilization_name(Utilization u);  // "math", "mfu", "hfu"
Recompute recompute_parse(const std::string& s);  // throws input error
Schedule schedule_parse(const std::string& s);    // throws input error

// Empty when the interleaved schedule can run this layout, else the reason (Megatron-LM's
// own asserts: p > 2, layers % (p·v) == 0, m % p == 0; v ≥ 2). Empty for other schedules.
std::string layout_interleave_problem(const ModelSpec& m, const Layout& l);
// m = B / (dp·b); requires validate first.
int64_t layout_micro_batches(const Layout& l);
// Throws a config error naming the first rule the layout breaks (dp·tp·pp = GPUs,
// heads % tp, layers % pp, B % (dp·b), ZeRO stage range, ...).
void run_validate(const RunSpec& run);
// The same checks minus the layout's own (what --search needs before it enumerates).
void run_validate_common(const RunSpec& run);

}  // namespace weft::plan
