// Demo sizes (see demo_settings.hpp). Full-run times measured on the 2-core dev
// machine are in docs/demo.md.
#include "demo/demo_settings.hpp"

#include <algorithm>
#include <cmath>

namespace weft::demo {

DemoSettings demo_settings(bool quick, double scale) {
  DemoSettings s;
  if (quick) {
    s.kjv_books = 2;  // Genesis and Exodus: ~0.4 MB
    s.vocab = 512;
    s.model = "d1";
    s.max_seq = 128;
    s.batch = 4;
    s.seq = 64;
    s.pretrain_steps = 30;
    s.lr = 3e-3;
    s.warmup = 5;
    s.val_every = 10;
    s.chat_examples = 200;
    s.sft_steps = 20;
    s.reward_steps = 10;
    s.sft_batch = 4;
    s.reward_batch = 4;
    s.ppo_steps = 2;
    s.ppo_batch = 4;
    s.dpo_steps = 10;
    s.dpo_batch = 4;
    s.rl_val_count = 8;
    s.eval_limit = 24;
    s.eval_max_tokens = 24;
  }
  auto sc = [scale](int steps) { return std::max(1, static_cast<int>(std::lround(steps * scale))); };
  s.pretrain_steps = sc(s.pretrain_steps);
  s.sft_steps = sc(s.sft_steps);
  s.reward_steps = sc(s.reward_steps);
  s.ppo_steps = sc(s.ppo_steps);
  s.dpo_steps = sc(s.dpo_steps);
  return s;
}

}  // namespace weft::demo
