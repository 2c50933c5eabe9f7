// `weft sft`: supervised fine-tuning of a GPT (an llm.c checkpoint) on chat JSONL
// conversations. Each conversation is rendered with the chat template; the loss is
// the mean over assistant tokens only; short conversations are packed into rows of T
// with attention kept inside each one (GptModel::set_doc_starts). Same TrainStep /
// AdamW / data-parallel machinery as `weft train` (rank_run); rank 0 writes
// RUN/metrics.jsonl and RUN/model.bin. Main thread only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace weft::train {

struct SftOptions {
  std::string init_from;            // llm.c checkpoint (required): the base model
  std::string data;                 // SFT JSONL (required)
  std::string val_data;             // SFT JSONL for the held-out loss (optional)
  std::string tokenizer = "gpt2";   // data::tokenizer_load_spec
  std::string out;                  // RUN_DIR (required)
  int batch = 4;                    // B: packed rows per global micro-batch
  int seq = 256;                    // T: positions per row
  int steps = 0;                    // 0: `epochs` passes over the packed rows
  int epochs = 1;
  int grad_accum = 1;
  double lr = 1e-4;
  int warmup = 0;
  double min_lr_frac = 0.1;
  double weight_decay = 0.0;
  float grad_clip = 1.0f;
  std::uint64_t seed = 1337;        // order of the conversations and of the rows per epoch
  int val_every = 0;                // 0: validate before and after training only
  int threads = 0;
  std::string precision = "fp32";   // matmul operands: fp32 | bf16 (docs/precision.md)
  bool overwrite = false;
  bool quiet = false;
  // Data parallel, as `weft train`.
  int ranks = 1;
  std::string ranks_as;
  int zero = 0;
  double bucket_mb = 25.0;
  double comm_timeout_s = 300;
};

struct SftResult {
  std::vector<double> losses;  // per step: assistant-token loss of the step's rows
  double val_before = -1.0;    // assistant-token loss of --val-data before training (-1: none)
  double val_after = -1.0;     // ... after training
  int steps = 0;
  std::size_t train_rows = 0, conversations = 0;
};

SftResult sft(const SftOptions& options);

}  // namespace weft::train
