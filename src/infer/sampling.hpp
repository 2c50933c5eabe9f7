// Token samplers over one row of logits: greedy, temperature, top-k, top-p (nucleus),
// repetition penalty (CTRL / Hugging Face convention), seeded through core/rng.hpp.
// Each step is a small pure function so tests can check it alone; sample_token chains
// them in the order HF does: penalty → temperature → top-k → top-p → draw.
// Pure functions over caller-owned buffers; any thread.
#pragma once

#include <cstdint>
#include <span>

#include "core/rng.hpp"

namespace weft::infer {

struct SamplingParams {
  float temperature = 1.0f;         // <= 0 → greedy (argmax); 1 = the model's distribution
  int top_k = 0;                    // keep the k most likely tokens; 0 = off
  float top_p = 1.0f;               // keep the smallest set with mass >= top_p; >= 1 = off
  float repetition_penalty = 1.0f;  // > 1 discourages tokens already in prompt/output; 1 = off
  std::uint64_t seed = 0;           // per-request Rng seed: same seed, same tokens
};

// Index of the largest logit (the first one on ties). logits (V).
std::int32_t sample_greedy(std::span<const float> logits);

// CTRL (Keskar et al. 2019) as Hugging Face applies it: for every distinct token id in
// `seen`, a positive logit is divided by `penalty`, a negative one multiplied. In place.
void apply_repetition_penalty(std::span<float> logits, std::span<const std::int32_t> seen,
                              float penalty);

// logits /= temperature (temperature > 0). In place.
void apply_temperature(std::span<float> logits, float temperature);

// Sets every logit outside the k largest to -inf (ties at the k-th value are all kept,
// as torch.topk + "< kth value" masking does). k <= 0 or k >= V: no change. In place.
void apply_top_k(std::span<float> logits, int k);

// Nucleus: sorts by probability (softmax of logits), keeps the smallest prefix whose
// mass reaches top_p (always at least the most likely token), sets the rest to -inf.
// top_p >= 1: no change. In place.
void apply_top_p(std::span<float> logits, float top_p);

// Draws from softmax(logits) (entries at -inf have probability 0) with one uniform
// draw from rng (inverse CDF in double).
std::int32_t sample_from_logits(std::span<const float> logits, Rng& rng);

// The whole chain for one step. `logits` (V) is used as scratch (modified); `seen` are
// the prompt + generated tokens (for the repetition penalty). temperature <= 0 →
// greedy after the penalty (rng untouched).
std::int32_t sample_token(std::span<float> logits, std::span<const std::int32_t> seen,
                          const SamplingParams& params, Rng& rng);

// log softmax(logits)[token] in double (for PPO's rollout log-probs). logits (V).
double token_logprob(std::span<const float> logits, std::int32_t token);

}  // namespace weft::infer
