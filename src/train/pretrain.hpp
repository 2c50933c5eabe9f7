// `weft train`: single-rank pretraining from llm.c token shards. Builds (or loads
// from an llm.c checkpoint) the model, runs TrainStep for N steps with periodic
// validation and greedy samples, prints one stable step line per step on stdout,
// appends one JSON object per step to RUN_DIR/metrics.jsonl, and saves
// RUN_DIR/model.bin (llm.c format) at the end. Main thread only.
// Data parallel (docs/parallel.md): `ranks` > 1 with ranks_as "threads" runs N rank
// threads in this process; under mpirun every process is one rank. Each rank takes
// its slice of every global batch (batch = the global B); rank 0 alone writes
// metrics.jsonl and model.bin.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "train/comm_report.hpp"

namespace weft::train {

struct PretrainOptions {
  std::string model = "d4";     // preset (ignored with init_from)
  int vocab = 50257;            // V for a new model (GPT-2's by default)
  int max_seq = 1024;           // maxT for a new model
  std::string init_from;        // llm.c checkpoint to start from (config from its header)
  std::string data;             // directory, shard file, or comma-separated shard files
  std::string val_data;         // same; empty: "val" shards found beside --data
  int batch = 4;                // B
  int seq = 64;                 // T
  int steps = 10;
  int grad_accum = 1;
  double lr = 3e-4;
  int warmup = 0;
  double min_lr_frac = 0.1;
  double weight_decay = 0.0;    // on 2-D weights only
  double adam_eps = 1e-8;       // AdamW's eps (hidden --test-adam-eps)
  float grad_clip = 1.0f;
  std::uint64_t seed = 1337;
  int val_every = 0;            // 0 = never (besides the end when > 0)
  int val_batches = 10;
  int sample_every = 0;         // 0 = never
  int sample_tokens = 16;
  int threads = 0;              // 0 = OpenMP default
  double peak_gflops = 0.0;     // MFU denominator; 0 = measure sgemm (1024³) at start
  std::string out;              // RUN_DIR (required)
  bool overwrite = false;       // allow an existing RUN_DIR/metrics.jsonl to be replaced
  bool quiet = false;           // no step lines on stdout
  std::string precision = "fp32";  // matmul operands: fp32 | bf16 (docs/precision.md)
  std::string device = "cpu";      // cpu | cuda (docs/gpu.md: one GPU, train/pretrain_gpu.hpp)
  bool recompute = false;          // cuda: recompute attention/GELU in backward (less memory)
  // Data parallel.
  int ranks = 1;                // thread ranks (--ranks-as threads) or 0/N under mpirun
  std::string ranks_as;         // "threads", "mpi", or "" (mpi when launched by mpirun)
  int zero = 0;                 // ZeRO stage 0..3
  double bucket_mb = 25.0;      // gradient bucket size (MiB)
  std::string zero_release = "grads";  // none|grads|all: ZeRO-2/3 memory returned to the OS
  bool dp_early_wte = true;     // reduce wte's untouched gradient rows early (data_parallel.hpp)
  std::string allreduce = "auto";  // dp gradient all-reduce: flat|hier|auto (docs/communicator.md)
  double comm_timeout_s = 300;  // deadline of every collective
  // The dp × tp × pp grid (docs/parallel.md): dp = 0 takes the ranks left over.
  int dp = 0;
  int tp = 1;
  int pp = 1;
  // Pipeline parallel (docs/parallel.md "Pipeline parallelism").
  std::string schedule = "1f1b";  // gpipe | 1f1b
  int micro_batches = 0;          // m per step; 0 = --grad-accum when > 1, else pp
  std::string trace;              // Chrome-trace JSON of every rank's spans (--pp > 1)
  // Checkpoints (docs/training.md "Checkpoints and resume").
  int save_every = 0;           // save RUN_DIR/ckpt/step_N every N steps (and at the end); 0 = never
  int keep = 3;                 // newest K checkpoints kept
  std::string resume;           // "" = fresh run; "latest" = RUN_DIR's latest; else a path
  int stop_after = 0;           // > 0: save and stop after this step (as SIGTERM would)
  std::string on_nan = "stop";  // non-finite loss/gradient: "stop" (error) or "skip" the update
  // Hidden test hooks: rank fault_rank does fault ("kill", "stall", "throw", "pause":
  // sleeps half the comm timeout; "nan":
  // every rank, a NaN summed gradient in fcw layer 1) at step fault_step (1-based); poison fills
  // released ZeRO memory with NaN; save_fail_bytes >= 0 makes rank files fail as on
  // a full disk after that many bytes.
  std::string fault;
  int fault_rank = -1;
  int fault_step = 0;
  bool poison = false;
  std::int64_t save_fail_bytes = -1;
};

struct PretrainResult {
  int first_step = 0;              // steps done before this run (resume), losses[0] is step first_step+1
  std::vector<double> losses;      // per step
  std::vector<double> val_losses;  // per validation
  double peak_gflops = 0.0;
  std::string last_checkpoint;     // directory of the last checkpoint saved, if any
  int stop_signal = 0;             // SIGINT/SIGTERM that stopped the run early, else 0
  std::vector<CommCheck> comm;     // grid runs: every rank's bytes per axis vs formula
  std::vector<std::vector<int>> samples;  // greedy samples (--sample-every), in order
};

PretrainResult pretrain(const PretrainOptions& options);

}  // namespace weft::train
