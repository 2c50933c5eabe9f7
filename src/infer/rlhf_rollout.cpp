// Engine-backed rollouts for PPO. See rlhf_rollout.hpp.
#include "infer/rlhf_rollout.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace weft::infer {

train::RolloutFn make_engine_rollout(Engine& engine, const RolloutOptions& options) {
  return [&engine, options](const float* params, std::span<const std::vector<std::int32_t>> prompts,
                            std::uint64_t seed) {
    engine.update_params(params);
    std::vector<GenerationRequest> requests;
    for (std::size_t i = 0; i < prompts.size(); ++i) {
      GenerationRequest r;
      r.prompt = prompts[i];
      r.sampling.temperature = options.temperature;
      r.sampling.seed = seed + i;
      const int room = engine.max_seq() - static_cast<int>(prompts[i].size());
      if (room < 1)
        throw input_error(str("prompt ", i, " has ", prompts[i].size(),
                              " tokens: no room left to generate within max_seq ", engine.max_seq()));
      r.max_tokens = std::min(options.max_new_tokens, room);
      if (options.stop_token >= 0) r.stop_tokens = {{options.stop_token}};
      requests.push_back(std::move(r));
    }
    std::vector<GenerationResult> results = engine.generate_batch(std::move(requests));
    std::vector<std::vector<std::int32_t>> out;
    for (std::size_t i = 0; i < results.size(); ++i) {
      GenerationResult& g = results[i];
      if (g.finish == FinishReason::kError)
        throw Error(ErrorKind::kRuntime, str("rollout ", i, ": ", g.error));
      std::vector<std::int32_t> resp = std::move(g.tokens);
      if (g.finish == FinishReason::kStop) resp.push_back(options.stop_token);
      if (resp.empty()) resp.push_back(options.stop_token >= 0 ? options.stop_token : 0);
      out.push_back(std::move(resp));
    }
    return out;
  };
}

}  // namespace weft::infer
