// `weft sft`: supervised fine-tuning on chat conversations (train/sft.hpp). Parsing only.
#include <memory>

#include "cli/command_registry.hpp"
#include "cli/precision_option.hpp"
#include "train/sft.hpp"

namespace {

std::function<int()> setup_sft(CLI::App& app) {
  auto o = std::make_shared<weft::train::SftOptions>();
  app.add_option("--init-from", o->init_from, "base model: llm.c GPT-2 checkpoint (.bin)")->required();
  app.add_option("--data", o->data, "conversations, JSONL {\"messages\":[{\"role\",\"content\"},...]}")->required();
  app.add_option("--val-data", o->val_data, "held-out conversations for the assistant-token loss");
  app.add_option("--tokenizer", o->tokenizer, "tok.json (weft), a GPT-2 folder, a tiktoken file, or gpt2")
      ->capture_default_str();
  app.add_option("--out,-o", o->out, "run directory (metrics.jsonl, model.bin)")->required();
  app.add_option("--batch,-b", o->batch, "packed rows per (global) micro-batch")->capture_default_str();
  app.add_option("--seq,-t", o->seq, "row length T (conversations are packed into rows)")->capture_default_str();
  app.add_option("--steps,-n", o->steps, "optimizer steps (0 = --epochs passes over the data)")->capture_default_str();
  app.add_option("--epochs", o->epochs, "passes over the data when --steps is 0")->capture_default_str();
  app.add_option("--grad-accum", o->grad_accum, "micro-batches per step")->capture_default_str();
  app.add_option("--lr", o->lr, "peak learning rate")->capture_default_str();
  app.add_option("--warmup", o->warmup, "linear warmup steps")->capture_default_str();
  app.add_option("--min-lr-frac", o->min_lr_frac, "cosine floor as a fraction of --lr")->capture_default_str();
  app.add_option("--weight-decay", o->weight_decay, "AdamW weight decay (2-D weights only)")->capture_default_str();
  app.add_option("--grad-clip", o->grad_clip, "clip the global grad norm to this (0 = off)")->capture_default_str();
  app.add_option("--seed", o->seed, "order of conversations and rows")->capture_default_str();
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
    weft::train::sft(*o);
    return 0;
  };
}

WEFT_COMMAND("sft", "Supervised fine-tuning on chat conversations (loss on assistant tokens, packed)",
             310, setup_sft);

}  // namespace
