// `weft reward`: trains a reward model on preference pairs (train/reward.hpp). Parsing only.
#include <memory>

#include "cli/command_registry.hpp"
#include "cli/precision_option.hpp"
#include "train/reward.hpp"

namespace {

std::function<int()> setup_reward(CLI::App& app) {
  auto o = std::make_shared<weft::train::RewardOptions>();
  app.add_option("--init-from", o->init_from, "the SFT model: llm.c GPT-2 checkpoint (.bin)")->required();
  app.add_option("--data", o->data, "preference pairs, JSONL {\"prompt\",\"chosen\",\"rejected\"}")->required();
  app.add_option("--val-data", o->val_data, "held-out pairs: pairwise accuracy before and after");
  app.add_option("--tokenizer", o->tokenizer, "tok.json (weft), a GPT-2 folder, a tiktoken file, or gpt2")
      ->capture_default_str();
  app.add_option("--out,-o", o->out, "run directory (metrics.jsonl, model.bin, reward_head.bin)")->required();
  app.add_option("--batch,-b", o->batch, "pairs per (global) micro-batch")->capture_default_str();
  app.add_option("--grad-accum", o->grad_accum, "micro-batches per step")->capture_default_str();
  app.add_option("--seq,-t", o->seq, "longest conversation in tokens (longer: its last --seq tokens)")
      ->capture_default_str();
  app.add_option("--steps,-n", o->steps, "optimizer steps (0 = --epochs passes over the pairs)")->capture_default_str();
  app.add_option("--epochs", o->epochs, "passes over the pairs when --steps is 0")->capture_default_str();
  app.add_option("--lr", o->lr, "peak learning rate")->capture_default_str();
  app.add_option("--warmup", o->warmup, "linear warmup steps")->capture_default_str();
  app.add_option("--min-lr-frac", o->min_lr_frac, "cosine floor as a fraction of --lr")->capture_default_str();
  app.add_option("--weight-decay", o->weight_decay, "AdamW weight decay (2-D weights and the head's w)")->capture_default_str();
  app.add_option("--grad-clip", o->grad_clip, "clip the global grad norm to this (0 = off)")->capture_default_str();
  app.add_option("--seed", o->seed, "order of the pairs")->capture_default_str();
  app.add_option("--val-every", o->val_every, "validate every N steps (0 = before and after only)")->capture_default_str();
  app.add_option("--threads", o->threads, "threads (0 = OpenMP default)")->capture_default_str();
  weft::cli::add_precision_option(app, &o->precision);
  app.add_flag("--overwrite", o->overwrite, "replace an existing run in --out");
  app.add_flag("--quiet,-q", o->quiet, "no step lines");
  app.add_option("--ranks", o->ranks, "data-parallel ranks as threads of this process")->capture_default_str();
  app.add_option("--ranks-as", o->ranks_as, "threads | mpi (default: mpi under mpirun, else threads when --ranks > 1)");
  app.add_option("--zero", o->zero, "ZeRO stage 0|1|2|3 over the data-parallel ranks")->capture_default_str();
  app.add_option("--bucket-mb", o->bucket_mb, "gradient bucket size in MiB")->capture_default_str();
  app.add_option("--comm-timeout", o->comm_timeout_s, "seconds before a collective gives up")->capture_default_str();
  return [o] {
    weft::train::reward_train(*o);
    return 0;
  };
}

WEFT_COMMAND("reward", "Train a reward model on preference pairs (pairwise loss, held-out accuracy)",
             320, setup_reward);

}  // namespace
