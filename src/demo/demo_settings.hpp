// The sizes `weft demo` uses: the full default (≤ 15 min on a 2-core machine) and
// --quick (≤ 3 min, the CI smoke test). One place to tune them; values, any thread.
#pragma once

#include <string>

namespace weft::demo {

struct DemoSettings {
  int kjv_books = 66;           // books of the KJV used for tokenizer and pretraining
  int vocab = 4096;             // tokenizer vocabulary (specials included)
  std::string model = "d3";     // preset (nanochat aspect: 64·depth wide)
  int max_seq = 128;            // context of the model
  int batch = 8;                // global batch (rows) of pretraining
  int seq = 128;
  int pretrain_steps = 400;
  double lr = 2e-3;
  int warmup = 30;
  int val_every = 100;
  int chat_examples = 3000;     // `weft data chat --max-examples`
  int sft_steps = 200;
  int sft_batch = 8;
  double sft_lr = 1e-3;
  int reward_steps = 150;
  int reward_batch = 8;
  double reward_lr = 3e-4;
  int ppo_steps = 32;
  int ppo_batch = 8;
  double ppo_lr = 3e-5;
  float ppo_temperature = 0.7f;  // rollouts near the greedy answers the eval scores
  int dpo_steps = 40;
  int dpo_batch = 8;
  double dpo_lr = 5e-5;
  float dpo_sft_weight = 0.5f;  // RPO's NLL term: plain DPO derails this small model's answers
  int rl_val_count = 32;        // held-out prompts/pairs PPO and DPO score before and after
  int eval_limit = 150;         // held-out prompts scored per model
  int eval_max_tokens = 48;
};

DemoSettings demo_settings(bool quick, double scale);

}  // namespace weft::demo
