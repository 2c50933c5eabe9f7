// Step time of weft's own CPU trainer on local ranks of this machine, op by op: every
// sgemm of a step at its real shape (layers, attention blocks, the logits), the
// memory-bound kernels as closed-form bytes / measured bandwidth, tp/pp/dp messages by
// the α–β model, and the AdamW update. Rates come from rates.hpp (measured here).
// Pure functions; any thread.
#pragma once

#include <string>
#include <vector>

#include "plan/model_spec.hpp"
#include "plan/rates.hpp"

namespace weft::plan {

// A weft run on ranks of one host (`weft train --ranks N --ranks-as threads` or mpirun -n N).
struct LocalRun {
  ModelSpec model;           // vocab = weft's padded vocabulary (50304 for GPT-2's)
  int dp = 1, tp = 1, pp = 1;
  int64_t micro_batch = 1;   // b: sequences per micro-batch of one rank
  int64_t global_batch = 1;  // B: sequences per step; m = B / (dp·b)
  int zero = 0;              // ZeRO stage of the dp group (0 or 1 here)
  int threads_per_rank = 1;  // OpenMP/BLAS threads of each rank
};

int local_ranks(const LocalRun& r);
int64_t local_micro_batches(const LocalRun& r);
// Throws a config error naming the first rule the run breaks (heads % tp, layers % pp,
// B % (dp·b), positive sizes).
void local_validate(const LocalRun& r);

// One sgemm kind of a micro-batch on one rank: `count` calls of (m,n,k,op).
// attention: issued inside weft's OpenMP loop over (batch, head), one thread each.
struct GemmCall {
  int64_t m = 0, n = 0, k = 0;
  std::string op;
  double count = 1;
  bool attention = false;
};
// Forward + backward sgemms of one micro-batch on a rank of pipeline stage `stage`.
std::vector<GemmCall> local_stage_gemms(const LocalRun& r, int stage);

// Closed-form bytes moved by the memory-bound kernels of one micro-batch, fp32 (see the
// counts in local_step.cpp): per block 88C + 136C/t + 20·(a/t)·T bytes per token;
// final layernorm 20C and embedding 32C per token; cross-entropy 20·V/t per token.
struct StageBytes {
  double layer = 0;       // blocks + final layernorm + embedding (the "layer" bandwidth)
  double classifier = 0;  // softmax / cross-entropy over the vocabulary shard
};
StageBytes local_stage_bytes(const LocalRun& r, int stage);
// Bytes per token of one block's memory-bound kernels (the formula above).
double local_block_bytes_per_token(int64_t C, int64_t Cs, int64_t heads_shard, int64_t T);
// Parameters a rank of `stage` updates (its blocks; wte/wpe on the first stage, lnf on
// the last), and the bytes of its optimizer step: AdamW 28, zeroing 4, norm 4 per param.
double local_stage_params(const LocalRun& r, int stage);
double local_optimizer_bytes(double params);

struct StageTime {
  double gemm_s = 0, attention_s = 0, memory_s = 0;  // compute of one micro-batch
  double tp_comm_s = 0, pp_comm_s = 0;                // messages of one micro-batch
  double micro_batch_s = 0;                           // sum of the above
  double optimizer_s = 0;                             // per step
};

struct LocalStepReport {
  std::vector<StageTime> stages;
  int64_t micro_batches = 0;
  double pipeline_s = 0;    // 1F1B: m·max(stage) + Σ(other stages) (fill and drain)
  double wte_sync_s = 0;    // pp: tied embedding gradient and weights between stages
  double dp_comm_s = 0;     // gradient all-reduce (ZeRO 0/1)
  double optimizer_s = 0;   // slowest stage
  double step_s = 0;        // wall seconds of one step
  double flops = 0;         // sgemm FLOPs of one step, all ranks
  double cpu_s = 0;         // CPU-seconds of one step over all ranks (cpu clock only)
  std::string link;         // which link rate was used, and whether it is a default
};

// `cpu`: price with the CPU-second rates; then step_s is each rank's busy CPU time on the
// critical path and cpu_s the whole step's CPU-seconds (what getrusage would measure).
LocalStepReport local_step_estimate(const LocalRun& r, const Rates& rates, bool cpu);

}  // namespace weft::plan
