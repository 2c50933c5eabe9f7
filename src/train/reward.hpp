// `weft reward`: trains a reward model (model/reward_model.hpp) on preference pairs
// {"prompt","chosen","rejected"}: each reply is rendered as the conversation
// user(prompt) → assistant(reply) and scored on its last token; the loss is the mean of
// −log σ(r_chosen − r_rejected) over the pairs. The transformer starts from an SFT
// model, the head from zero. Reports the pairwise accuracy (r_chosen > r_rejected) of
// held-out pairs before and after. Same data-parallel launch as `weft train`; rank 0
// writes RUN/metrics.jsonl, RUN/model.bin and RUN/reward_head.bin. Main thread only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace weft::train {

struct RewardOptions {
  std::string init_from;           // llm.c checkpoint (required): the SFT model
  std::string data;                // preference pairs JSONL (required)
  std::string val_data;            // held-out pairs (optional)
  std::string tokenizer = "gpt2";  // data::tokenizer_load_spec
  std::string out;                 // RUN_DIR (required)
  int batch = 8;                   // pairs per global micro-batch
  int grad_accum = 1;              // micro-batches per step
  int seq = 256;                   // longest conversation; longer ones keep their last seq tokens
  int steps = 0;                   // 0: `epochs` passes over the pairs
  int epochs = 1;
  double lr = 3e-5;
  int warmup = 0;
  double min_lr_frac = 0.1;
  double weight_decay = 0.0;
  float grad_clip = 1.0f;
  std::uint64_t seed = 1337;       // order of the pairs per epoch
  int val_every = 0;               // 0: before and after training only
  int threads = 0;
  std::string precision = "fp32";  // matmul operands: fp32 | bf16 (docs/precision.md)
  bool overwrite = false;
  bool quiet = false;
  // Data parallel, as `weft train`.
  int ranks = 1;
  std::string ranks_as;
  int zero = 0;
  double bucket_mb = 25.0;
  double comm_timeout_s = 300;
};

struct RewardResult {
  std::vector<double> losses;      // per step
  std::vector<double> accuracies;  // per step: pairwise accuracy on the step's pairs
  double val_accuracy_before = -1, val_accuracy_after = -1;  // -1: no --val-data
  double val_loss_before = -1, val_loss_after = -1;
  int steps = 0;
};

RewardResult reward_train(const RewardOptions& options);

}  // namespace weft::train
