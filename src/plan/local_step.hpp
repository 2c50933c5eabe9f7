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
  int zero = 0;              // ZeRO stage of the dp group (0-3; 3 only with tp = pp = 1)
  std::string zero_release = "grads";  // weft train --zero-release: none | grads | all
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
// Ψ: the parameters of a stage's flat buffer on one tp rank, as weft lays it out — its
// blocks, and wte (Vp/t rows), wpe (T rows, the plan's sequence) and lnf on every stage
// (parallel/comm_volume.hpp's comm_shard_params). Gradients are the same size.
double local_stage_params(const LocalRun& r, int stage);
// What one rank's optimizer step touches, per ZeRO stage: AdamW reads p, m, v, g and
// writes p, m, v (28 bytes per updated parameter: Ψ, less the last stage's copy of wte
// under pp with ZeRO-0, or Ψ/dp with ZeRO >= 1); the norm reads its gradients (4 bytes
// each: Ψ, or Ψ/dp with ZeRO >= 1), zeroing writes them (Ψ, or Ψ/dp with ZeRO >= 2).
double local_optimizer_bytes(const LocalRun& r, int stage);

// dp messages of one step on a rank of `stage` (payload bytes as parallel/comm_bytes
// counts them: all-reduce = the buffer, reduce-scatter = input, all-gather = output):
// ZeRO-0 all-reduces the gradients (4Ψ); ZeRO-1/2 reduce-scatter them and all-gather
// the parameters after the update (4Ψ each); ZeRO-3 reduce-scatters the gradients and,
// per micro-batch, all-gathers every unit's parameters where they are used: the
// embedding 3 times (embedding, LM head forward and backward), every block and lnf
// twice (forward, backward). The scalar all-reduces (norm, loss) are left out.
struct DpTraffic {
  double allreduce = 0, reduce_scatter = 0, allgather_step = 0;  // bytes, once per step
  double allgather_micro = 0;  // ZeRO-3: bytes gathered per micro-batch
  int gathers_micro = 0;       // ZeRO-3: all-gather calls per micro-batch (their α)
  double bytes(int64_t micro_batches) const;
};
DpTraffic local_dp_traffic(const LocalRun& r, int stage);

// Bytes a rank gives back to the OS and faults in again (weft train --zero-release):
// with ZeRO >= 2 and dp > 1, "grads" releases the gradient pieces it does not own after
// each reduce, (dp−1)/dp · 4Ψ per step, which the next backward touches again; "all"
// (ZeRO-3) also the parameters it does not own after each use, (dp−1)/dp of every
// gather's bytes per micro-batch. Priced at the measured "fault" kernel.
struct FaultBytes {
  double step = 0, micro = 0;
};
FaultBytes local_fault_bytes(const LocalRun& r, int stage);

struct StageTime {
  double gemm_s = 0, attention_s = 0, memory_s = 0;  // compute of one micro-batch
  double tp_comm_s = 0, pp_comm_s = 0;                // messages of one micro-batch
  double zero_gather_s = 0;                           // ZeRO-3 gathers of one micro-batch
  double fault_s = 0;  // released parameters faulted in again, one micro-batch (in zero_gather_s)
  double micro_batch_s = 0;                           // sum of the above
  double optimizer_s = 0;                             // per step
};

struct LocalStepReport {
  std::vector<StageTime> stages;
  int64_t micro_batches = 0;
  double pipeline_s = 0;    // 1F1B: m·max(stage) + Σ(other stages) (fill and drain)
  double wte_sync_s = 0;    // pp: tied embedding gradient and weights between stages
  double dp_comm_s = 0;     // dp messages once per step (all-reduce, or reduce-scatter + all-gather)
  double dp_bytes = 0;      // dp payload bytes per step of the busiest rank (local_dp_traffic)
  double fault_s = 0;       // released gradients faulted in again, per step (slowest stage)
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
