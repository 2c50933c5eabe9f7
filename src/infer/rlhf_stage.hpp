// `weft rlhf`: the third stage of DeepSpeed-Chat's recipe on a supervised model.
//   --method ppo: actor and frozen reference from the SFT model, frozen reward model,
//     critic from the reward model; rollouts on the KV-cache engine (which is why this
//     stage lives in infer/: train/ holds the algorithm, this file wires the engine in).
//   --method dpo: DPO on preference pairs against the frozen SFT reference.
// Writes RUN_DIR/metrics.jsonl (one object per step) and RUN_DIR/model.bin (the actor,
// llm.c format). Formulas and settings: docs/training.md "weft rlhf".
// Data parallel as `weft train`: thread ranks (--ranks N --ranks-as threads) or one rank
// per mpirun process; rank 0 writes. Main thread only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace weft::infer {

struct RlhfOptions {
  std::string method = "ppo";  // ppo | dpo
  std::string model;           // SFT model (llm.c .bin): actor and reference
  std::string reward_model;    // PPO: reward model (RM score + critic init)
  std::string tokenizer = "gpt2";
  std::string pairs;        // DPO: training pairs JSONL
  std::string val_pairs;    // DPO: held-out pairs (accuracy, margins); optional
  std::string prompts;      // PPO: prompts JSONL ("prompt" or "messages" lines)
  std::string val_prompts;  // PPO: held-out prompts (greedy reward); optional
  std::string out;          // RUN_DIR
  bool overwrite = false;
  int steps = 30;
  int batch = 16;  // global: pairs (DPO) or prompts (PPO) per step
  // PPO.
  int minibatch = 8;      // rows per update
  int epochs = 2;         // PPO epochs per rollout batch
  float kl_beta = 0.05f;  // β of the per-token KL penalty
  float gamma = 1.0f;
  float lambda = 0.95f;
  float clip = 0.2f;
  float value_clip = 0.2f;
  double critic_lr = 5e-5;
  int max_new_tokens = 48;
  float temperature = 1.0f;
  int val_count = 64;  // held-out prompts/pairs evaluated at most
  // DPO.
  float beta = 0.1f;
  float sft_weight = 0.0f;  // dpo: α of the NLL term on chosen replies (0 = plain DPO)
  // Both.
  double lr = 1e-4;  // tiny (d2–d4) models; large ones want ~1e-5
  int warmup = 0;
  float grad_clip = 1.0f;
  int max_seq = 0;  // 0 = the model's
  std::uint64_t seed = 1;
  int threads = 0;
  std::string precision = "fp32";  // matmul operands of every model: fp32 | bf16
  bool quiet = false;
  int ranks = 1;
  std::string ranks_as;
  double comm_timeout_s = 300;
};

struct RlhfResult {
  // Per step: DPO loss or PPO mean reward; held-out figures before and after.
  std::vector<double> losses, rewards, kls;
  double val_before = 0.0, val_after = 0.0;                // DPO: accuracy; PPO: greedy reward
  double val_margin_before = 0.0, val_margin_after = 0.0;  // DPO only
  // DPO: held-out pairs where the policy alone gives chosen the higher log-probability.
  double val_policy_before = 0.0, val_policy_after = 0.0;
};

RlhfResult rlhf(const RlhfOptions& options);

}  // namespace weft::infer
