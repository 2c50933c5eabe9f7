// Post-training stages of `weft demo` (see demo_post.hpp). SFT, the reward model and
// PPO/DPO are built on the sft and rlhf branches (issue 9); until they are merged
// into this build, each stage is reported as not available.
#include "demo/demo_post.hpp"

namespace weft::demo {

DemoPostModels demo_post_stages(StageRunner& st, const DemoPostContext& c) {
  (void)c;
  DemoPostModels m;
  st.not_available("sft", "Supervised fine-tuning (SFT)", "`weft sft` is not part of this build yet");
  st.not_available("reward", "Reward model", "`weft reward` is not part of this build yet");
  st.not_available("ppo", "RLHF with PPO", "`weft rlhf --method ppo` is not part of this build yet");
  st.not_available("dpo", "DPO", "`weft rlhf --method dpo` is not part of this build yet");
  return m;
}

infer::EvalRewardFn demo_reward_fn(const std::string&, const std::string&) {
  return {};
}

}  // namespace weft::demo
