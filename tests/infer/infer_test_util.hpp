// Shared by the infer tests: a small GPT with random weights scaled up so logits are
// O(1) (a 1e-5 tolerance then means something), and the oracle: GptModel's full
// forward over a whole prefix (no cache). Test-only; one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "model/gpt_config.hpp"
#include "model/gpt_model.hpp"
#include "model/param_layout.hpp"

namespace weft::infer::test {

inline model::GptConfig small_config(int vocab = 200, int max_seq = 64) {
  model::GptConfig c;
  c.n_layer = 2;
  c.n_head = 4;
  c.n_embd = 64;
  c.vocab = vocab;
  c.padded_vocab = model::pad_vocab(vocab);
  c.max_seq = max_seq;
  return c;
}

// A model for full recomputation (B=1, T=max_seq) with seeded weights, matrices ×5.
// (A unique_ptr: GptModel holds a pointer to its own member and must not move.)
inline std::unique_ptr<model::GptModel> make_model(const model::GptConfig& c,
                                                   std::uint64_t seed = 7) {
  auto m = std::make_unique<model::GptModel>(c, 1, c.max_seq, /*training=*/false);
  m->init_weights(seed);
  for (const model::ParamTensor& t : m->layout().tensors())
    if (t.is_matrix)
      for (std::size_t i = 0; i < t.size; ++i) m->params()[t.offset + i] *= 5.0f;
  return m;
}

// Logits (T, Vp) of the full forward over `tokens` (the oracle).
inline std::vector<float> full_logits(model::GptModel& m, const std::vector<std::int32_t>& tokens) {
  const int T = static_cast<int>(tokens.size());
  m.forward(tokens.data(), nullptr, nullptr, 1, T);
  const std::size_t n = static_cast<std::size_t>(T) * m.config().padded_vocab;
  return std::vector<float>(m.logits(), m.logits() + n);
}

// Greedy continuation of `prompt` by full recomputation at every step.
inline std::vector<std::int32_t> greedy_full(model::GptModel& m, std::vector<std::int32_t> seq,
                                             int n) {
  const int V = m.config().vocab, Vp = m.config().padded_vocab;
  std::vector<std::int32_t> out;
  for (int i = 0; i < n; ++i) {
    const std::vector<float> z = full_logits(m, seq);
    const float* last = z.data() + (seq.size() - 1) * static_cast<std::size_t>(Vp);
    int best = 0;
    for (int v = 1; v < V; ++v)
      if (last[v] > last[best]) best = v;
    out.push_back(best);
    seq.push_back(best);
  }
  return out;
}

inline std::vector<std::int32_t> random_tokens(int n, int vocab, std::uint64_t seed) {
  std::vector<std::int32_t> t(n);
  std::uint64_t x = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (int i = 0; i < n; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    t[i] = static_cast<std::int32_t>((x >> 33) % static_cast<std::uint64_t>(vocab));
  }
  return t;
}

}  // namespace weft::infer::test
