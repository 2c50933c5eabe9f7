// PPO's rollouts on the KV-cache engine: a train::RolloutFn that loads the actor's
// current weights into an Engine (update_params) and samples one response per prompt
// with continuous batching, ending at the chat template's <|end|> token (kept as the
// response's last token, so the policy learns to stop). Holds a reference to the
// engine (owned by the caller); call only from the engine's owner thread.
#pragma once

#include <cstdint>

#include "infer/engine.hpp"
#include "train/ppo.hpp"

namespace weft::infer {

struct RolloutOptions {
  int max_new_tokens = 48;   // per response (also capped by the engine's max_seq)
  float temperature = 1.0f;  // 1 = sample the policy's own distribution (PPO needs it)
  std::int32_t stop_token = -1;  // <|end|>; -1 = none
};

train::RolloutFn make_engine_rollout(Engine& engine, const RolloutOptions& options);

}  // namespace weft::infer
