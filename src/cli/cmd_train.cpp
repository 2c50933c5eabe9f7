// `weft train`: single-rank pretraining on llm.c token shards (train/pretrain.hpp).
// Parsing only.
#include <memory>

#include "cli/command_registry.hpp"
#include "train/pretrain.hpp"

namespace {

std::function<int()> setup_train(CLI::App& app) {
  auto o = std::make_shared<weft::train::PretrainOptions>();
  app.add_option("--model", o->model, "model preset d<depth>: d2, d4, d6, d12 (GPT-2 124M), d24, d36, d48")
      ->capture_default_str();
  app.add_option("--vocab", o->vocab, "vocabulary size of a new model")->capture_default_str();
  app.add_option("--max-seq", o->max_seq, "longest sequence of a new model")->capture_default_str();
  app.add_option("--init-from", o->init_from, "start from these weights: an llm.c GPT-2 .bin or a weft checkpoint (its shape wins)");
  app.add_option("--data", o->data, "token shards: a directory, a file, or file1,file2,...")->required();
  app.add_option("--val-data", o->val_data, "validation shards (default: *val* shards in --data)");
  app.add_option("--batch,-b", o->batch, "micro-batch size B")->capture_default_str();
  app.add_option("--seq,-t", o->seq, "sequence length T")->capture_default_str();
  app.add_option("--steps,-n", o->steps, "optimizer steps")->capture_default_str();
  app.add_option("--grad-accum", o->grad_accum, "micro-batches per step")->capture_default_str();
  app.add_option("--lr", o->lr, "peak learning rate")->capture_default_str();
  app.add_option("--warmup", o->warmup, "linear warmup steps")->capture_default_str();
  app.add_option("--min-lr-frac", o->min_lr_frac, "cosine floor as a fraction of --lr")->capture_default_str();
  app.add_option("--weight-decay", o->weight_decay, "AdamW weight decay (2-D weights only)")->capture_default_str();
  app.add_option("--grad-clip", o->grad_clip, "clip the global grad norm to this (0 = off)")->capture_default_str();
  app.add_option("--seed", o->seed, "seed of the weight init")->capture_default_str();
  app.add_option("--val-every", o->val_every, "validate every N steps (0 = never)")->capture_default_str();
  app.add_option("--val-batches", o->val_batches, "batches per validation")->capture_default_str();
  app.add_option("--sample-every", o->sample_every, "print a greedy sample every N steps (0 = never)")->capture_default_str();
  app.add_option("--sample-tokens", o->sample_tokens, "tokens per sample")->capture_default_str();
  app.add_option("--threads", o->threads, "threads (0 = OpenMP default)")->capture_default_str();
  app.add_option("--peak-gflops", o->peak_gflops, "MFU denominator (0 = measure sgemm at start)");
  app.add_option("--out,-o", o->out, "run directory (metrics.jsonl, model.bin)")->required();
  app.add_flag("--overwrite", o->overwrite, "replace an existing run in --out");
  app.add_flag("--quiet,-q", o->quiet, "no step lines");
  app.add_option("--precision", o->precision,
                 "matmul precision: fp32, or bf16 (fp32 master weights; fp32 on CPUs without bf16)")
      ->capture_default_str();
  app.add_option("--device", o->device, "cpu, or cuda (one GPU; docs/gpu.md)")->capture_default_str();
  app.add_flag("--recompute", o->recompute, "cuda: recompute attention and GELU in backward (saves memory)");
  app.add_option("--ranks", o->ranks, "data-parallel ranks as threads of this process (with --ranks-as threads)")
      ->capture_default_str();
  app.add_option("--ranks-as", o->ranks_as, "threads | mpi (default: mpi under mpirun, else threads when --ranks > 1)");
  app.add_option("--zero", o->zero, "ZeRO stage 0|1|2|3 over the data-parallel ranks")->capture_default_str();
  app.add_option("--bucket-mb", o->bucket_mb, "gradient bucket size in MiB")->capture_default_str();
  app.add_option("--zero-release", o->zero_release,
                 "ZeRO-2/3 memory given back to the OS, whole 2 MiB pages: none|grads|all "
                 "(all: also ZeRO-3's released parameters)")
      ->capture_default_str();
  app.add_option("--dp-early-wte", o->dp_early_wte,
                 "reduce the wte gradient rows this step's tokens do not touch right after the "
                 "LM head's backward (dp with tp = pp = 1; bitwise the same sums)")
      ->capture_default_str();
  app.add_option("--allreduce", o->allreduce,
                 "dp gradient all-reduce: flat | hier (in node, across nodes, in node) | auto "
                 "(hier when the dp ranks span nodes, several per node)")
      ->check(CLI::IsMember({"flat", "hier", "auto"}))
      ->capture_default_str();
  app.add_option("--dp", o->dp, "data-parallel ranks (0 = world / (tp·pp))")->capture_default_str();
  app.add_option("--tp", o->tp, "tensor-parallel ranks (Megatron-style; divides heads and padded vocab)")
      ->capture_default_str();
  app.add_option("--pp", o->pp, "pipeline-parallel stages (docs/parallel.md)")->capture_default_str();
  app.add_option("--comm-timeout", o->comm_timeout_s, "seconds before a collective gives up")->capture_default_str();
  app.add_option("--schedule", o->schedule, "pipeline schedule: gpipe | 1f1b")->capture_default_str();
  app.add_option("--micro-batches", o->micro_batches,
                 "pipeline micro-batches per step (default: --grad-accum if > 1, else --pp)");
  app.add_option("--trace", o->trace, "write a Chrome-trace/Perfetto JSON of every rank's spans (--pp >= 2)");
  app.add_option("--save-every", o->save_every, "save a checkpoint to RUN_DIR/ckpt/step_N every N steps (0 = only on Ctrl-C)")
      ->capture_default_str();
  app.add_option("--keep", o->keep, "checkpoints kept (newest K)")->capture_default_str();
  auto* resume = app.add_option("--resume", o->resume,
                                "continue from RUN_DIR's latest checkpoint, or from PATH (a ckpt/step_N or run directory)")
                     ->expected(0, 1);
  app.add_option("--stop-after", o->stop_after, "save a checkpoint and stop after this step (0 = run to --steps)");
  app.add_option("--on-nan", o->on_nan, "non-finite loss or gradient: stop (error) | skip (no update)")
      ->capture_default_str();
  // Hidden test hooks (docs/parallel.md): a fault on one rank at one step, NaN poison.
  app.add_option("--test-fault", o->fault, "")->group("");
  app.add_option("--test-fault-rank", o->fault_rank, "")->group("");
  app.add_option("--test-fault-step", o->fault_step, "")->group("");
  app.add_flag("--test-poison", o->poison, "")->group("");
  app.add_option("--test-adam-eps", o->adam_eps, "")->group("");  // tp rounding study (docs/parallel.md)
  app.add_option("--test-save-fail-bytes", o->save_fail_bytes, "")->group("");
  return [o, resume] {
    if (resume->count() > 0 && o->resume.empty()) o->resume = "latest";
    weft::train::pretrain(*o);
    return 0;
  };
}

WEFT_COMMAND("train", "Pretrain a GPT on token shards (one rank, or data parallel with ZeRO)", 300, setup_train);

}  // namespace
