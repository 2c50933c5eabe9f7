// Post-training stages of `weft demo` (see demo_post.hpp). SFT and the reward model
// (train/sft.hpp, train/reward.hpp) and PPO/DPO (infer/rlhf_stage.hpp) come from their
// own branches of issue 9; each stage compiles in when its header is part of the build
// (__has_include) and is reported as "not available in this build" otherwise.
#include "demo/demo_post.hpp"

#include <algorithm>
#include <filesystem>
#include <memory>

#include "core/error.hpp"
#include "demo/demo_watch.hpp"

#if __has_include("train/sft.hpp")
#include "train/sft.hpp"
#define WEFT_DEMO_HAVE_SFT 1
#endif
#if __has_include("train/reward.hpp") && __has_include("model/reward_model.hpp")
#include "data/chat_template.hpp"
#include "data/tokenizer.hpp"
#include "model/reward_model.hpp"
#include "train/reward.hpp"
#define WEFT_DEMO_HAVE_REWARD 1
#endif
#if __has_include("infer/rlhf_stage.hpp")
#include "infer/rlhf_stage.hpp"
#define WEFT_DEMO_HAVE_RLHF 1
#endif

namespace weft::demo {
namespace {

namespace fs = std::filesystem;

[[maybe_unused]] std::string fmt(double v) {
  return str(static_cast<double>(static_cast<long long>(v * 1000.0 + (v < 0 ? -0.5 : 0.5))) / 1000.0);
}

#ifdef WEFT_DEMO_HAVE_SFT
std::string run_sft(const DemoPostContext& c, const std::string& out) {
  train::SftOptions o;
  o.init_from = c.base_model;
  o.data = c.chat_dir + "/sft_train.jsonl";
  o.val_data = c.chat_dir + "/sft_test.jsonl";
  o.tokenizer = c.tokenizer;
  o.out = out;
  o.batch = c.settings.sft_batch;
  o.seq = c.settings.max_seq;
  o.steps = c.settings.sft_steps;
  o.lr = c.settings.sft_lr;
  o.warmup = c.settings.sft_steps / 10;
  o.val_every = 0;
  o.threads = c.threads;
  o.overwrite = true;
  o.quiet = true;
  train::SftResult r;
  demo_run_watched("sft", o.steps, out + "/metrics.jsonl", "loss", c.progress,
                   [&] { r = train::sft(o); });
  return str(r.steps, " steps on ", r.conversations, " conversations; held-out assistant loss ",
             fmt(r.val_before), " → ", fmt(r.val_after));
}
#endif

#ifdef WEFT_DEMO_HAVE_REWARD
std::string run_reward(const DemoPostContext& c, const std::string& init, const std::string& out) {
  train::RewardOptions o;
  o.init_from = init;
  o.data = c.chat_dir + "/pairs_train.jsonl";
  o.val_data = c.chat_dir + "/pairs_test.jsonl";
  o.tokenizer = c.tokenizer;
  o.out = out;
  o.batch = c.settings.reward_batch;
  o.seq = c.settings.max_seq;
  o.steps = c.settings.reward_steps;
  o.lr = c.settings.reward_lr;
  o.threads = c.threads;
  o.overwrite = true;
  o.quiet = true;
  train::RewardResult r;
  demo_run_watched("reward", o.steps, out + "/metrics.jsonl", "loss", c.progress,
                   [&] { r = train::reward_train(o); });
  return str(r.steps, " steps; held-out pairwise accuracy ", fmt(r.val_accuracy_before), " → ",
             fmt(r.val_accuracy_after));
}
#endif

#ifdef WEFT_DEMO_HAVE_RLHF
std::string run_rlhf(const DemoPostContext& c, const std::string& method, const std::string& sft,
                     const std::string& rm, const std::string& out) {
  infer::RlhfOptions o;
  o.method = method;
  o.model = sft;
  o.reward_model = rm;
  o.tokenizer = c.tokenizer;
  o.out = out;
  o.overwrite = true;
  o.quiet = true;
  o.threads = c.threads;
  o.seed = 1;
  if (method == "ppo") {
    o.prompts = c.chat_dir + "/pairs_train.jsonl";
    o.val_prompts = c.chat_dir + "/pairs_test.jsonl";
    o.steps = c.settings.ppo_steps;
    o.batch = c.settings.ppo_batch;
    o.minibatch = std::max(1, c.settings.ppo_batch / 2);
    o.max_new_tokens = c.settings.eval_max_tokens;
    o.lr = c.settings.ppo_lr;
    o.temperature = c.settings.ppo_temperature;
    o.val_count = c.settings.rl_val_count;
  } else {
    o.pairs = c.chat_dir + "/pairs_train.jsonl";
    o.val_pairs = c.chat_dir + "/pairs_test.jsonl";
    o.steps = c.settings.dpo_steps;
    o.batch = c.settings.dpo_batch;
    o.lr = c.settings.dpo_lr;
    o.sft_weight = c.settings.dpo_sft_weight;
    o.val_count = c.settings.rl_val_count;
  }
  infer::RlhfResult r;
  demo_run_watched(method, o.steps, out + "/metrics.jsonl", method == "ppo" ? "reward" : "loss",
                   c.progress, [&] { r = infer::rlhf(o); });
  return method == "ppo"
             ? str(o.steps, " steps; held-out greedy reward ", fmt(r.val_before), " → ", fmt(r.val_after))
             : str(o.steps, " steps; held-out pair accuracy ", fmt(r.val_before), " → ", fmt(r.val_after));
}
#endif

}  // namespace

DemoPostModels demo_post_stages(StageRunner& st, const DemoPostContext& c) {
  DemoPostModels m;
  const std::string run = c.run_dir;
#ifdef WEFT_DEMO_HAVE_SFT
  if (st.run_optional("sft", "Supervised fine-tuning (SFT) on the chat conversations",
                      [&] { return run_sft(c, run + "/sft"); }))
    m.sft_model = run + "/sft/model.bin";
#else
  st.not_available("sft", "Supervised fine-tuning (SFT)", "`weft sft` is not part of this build yet");
#endif
#ifdef WEFT_DEMO_HAVE_REWARD
  if (!m.sft_model.empty()) {
    if (st.run_optional("reward", "Reward model (from the SFT model) on the preference pairs",
                        [&] { return run_reward(c, m.sft_model, run + "/reward"); }))
      m.reward_model = run + "/reward";
  } else {
    st.not_available("reward", "Reward model", "needs the SFT model");
  }
#else
  st.not_available("reward", "Reward model", "`weft reward` is not part of this build yet");
#endif
#ifdef WEFT_DEMO_HAVE_RLHF
  if (!m.sft_model.empty() && !m.reward_model.empty()) {
    if (st.run_optional("ppo", "RLHF with PPO (actor and reference from SFT, critic from the reward model)",
                        [&] { return run_rlhf(c, "ppo", m.sft_model, m.reward_model, run + "/ppo"); }))
      m.ppo_model = run + "/ppo/model.bin";
  } else {
    st.not_available("ppo", "RLHF with PPO", "needs the SFT and reward models");
  }
  if (!m.sft_model.empty()) {
    if (st.run_optional("dpo", "DPO on the preference pairs (reference: the SFT model)",
                        [&] { return run_rlhf(c, "dpo", m.sft_model, "", run + "/dpo"); }))
      m.dpo_model = run + "/dpo/model.bin";
  } else {
    st.not_available("dpo", "DPO", "needs the SFT model");
  }
#else
  st.not_available("ppo", "RLHF with PPO", "`weft rlhf --method ppo` is not part of this build yet");
  st.not_available("dpo", "DPO", "`weft rlhf --method dpo` is not part of this build yet");
#endif
  return m;
}

infer::EvalRewardFn demo_reward_fn(const std::string& reward_model, const std::string& tokenizer) {
#ifdef WEFT_DEMO_HAVE_REWARD
  return [reward_model, tokenizer](const std::vector<std::string>& prompts,
                                   const std::vector<std::string>& answers) {
    const data::Tokenizer tok = data::tokenizer_load_spec(tokenizer);
    std::unique_ptr<model::RewardModel> rm = model::RewardModel::load(reward_model);
    std::vector<double> out;
    for (std::size_t i = 0; i < prompts.size(); ++i) {
      const data::ChatTokens ct = data::chat_render(
          tok, {{data::ChatRole::kUser, prompts[i]}, {data::ChatRole::kAssistant, answers[i]}});
      const std::vector<std::int32_t> ids(ct.ids.begin(), ct.ids.end());
      out.push_back(rm->score(ids));
    }
    return out;
  };
#else
  (void)reward_model;
  (void)tokenizer;
  return {};
#endif
}

}  // namespace weft::demo
