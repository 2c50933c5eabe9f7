// The post-training stages of `weft demo`: SFT, reward model, PPO and DPO. Each runs
// when this build has it and is recorded as "not available in this build" when not
// (nothing is faked). Main thread only.
#pragma once

#include <string>

#include "demo/demo_settings.hpp"
#include "demo/demo_stage.hpp"
#include "infer/eval_run.hpp"

namespace weft::demo {

struct DemoPostContext {
  std::string run_dir;
  std::string tokenizer;   // tok.json
  std::string chat_dir;    // weft data chat output
  std::string base_model;  // pretrain/model.bin
  DemoSettings settings;
  int threads = 1;
  bool progress = true;
};

// Paths of the models the stages produced ("" = the stage is not available).
struct DemoPostModels {
  std::string sft_model, reward_model, ppo_model, dpo_model;
};

DemoPostModels demo_post_stages(StageRunner& st, const DemoPostContext& c);

// A reward function for eval from a reward model file (empty function when reward
// models are not available in this build).
infer::EvalRewardFn demo_reward_fn(const std::string& reward_model, const std::string& tokenizer);

}  // namespace weft::demo
