// Transformer + scalar head. See reward_model.hpp.
#include "model/reward_model.hpp"

#include <cstring>
#include <filesystem>

#include "core/error.hpp"
#include "model/llmc_checkpoint.hpp"

namespace weft::model {

RewardModel::RewardModel(const GptConfig& config, int B, int T, bool training)
    : gpt_(config, B, T, training), head_(config.n_embd),
      values_(static_cast<std::size_t>(B) * T) {
  if (training) {
    head_grads_.allocate(head_.size());
    dhidden_.allocate(static_cast<std::size_t>(B) * T * config.n_embd);
  }
}

std::unique_ptr<RewardModel> RewardModel::load(const std::string& dir, int B, int T,
                                               bool training) {
  const std::filesystem::path d(dir);
  LlmcModel m = llmc_load_model((d / "model.bin").string());
  auto rm = std::make_unique<RewardModel>(m.config, B, T > 0 ? T : m.config.max_seq, training);
  std::copy(m.params.begin(), m.params.end(), rm->gpt_.params());
  rm->head_ = reward_head_load((d / "reward_head.bin").string(), m.config.n_embd);
  return rm;
}

void RewardModel::save(const std::string& dir) const {
  const std::filesystem::path d(dir);
  llmc_save_model((d / "model.bin").string(), gpt_.config(), gpt_.params());
  reward_head_save((d / "reward_head.bin").string(), head_);
}

void RewardModel::forward(const std::int32_t* tokens, int B, int T) {
  gpt_.forward_hidden(tokens, B, T);
  const int C = gpt_.config().n_embd;
  const float* h = gpt_.final_hidden();
  const float* w = head_.w();
  const std::size_t N = static_cast<std::size_t>(B) * T;
  for (std::size_t i = 0; i < N; ++i) {
    double r = head_.b();
    for (int k = 0; k < C; ++k) r += static_cast<double>(w[k]) * h[i * C + k];
    values_.data()[i] = static_cast<float>(r);
  }
  last_B_ = B;
  last_T_ = T;
}

void RewardModel::score_batch(const std::int32_t* tokens, const int* lengths, int B, int T,
                              float* scores) {
  for (int b = 0; b < B; ++b)
    if (lengths[b] < 1 || lengths[b] > T)
      throw input_error(str("reward score: row ", b, " has length ", lengths[b], ", outside [1, ",
                            T, "]"));
  forward(tokens, B, T);
  for (int b = 0; b < B; ++b)
    scores[b] = values_.data()[static_cast<std::size_t>(b) * T + lengths[b] - 1];
}

float RewardModel::score(const std::int32_t* tokens, int n) {
  if (n < 1) throw input_error("reward score: empty token sequence");
  const int cap = gpt_.max_seq();
  const int T = n < cap ? n : cap;
  float s = 0.0f;
  score_batch(tokens + (n - T), &T, 1, T, &s);
  return s;
}

void RewardModel::zero_grad() {
  WEFT_CHECK(!head_grads_.empty(), "zero_grad on a reward model built without training buffers");
  gpt_.zero_grad();
  std::memset(head_grads_.data(), 0, head_grads_.bytes());
}

void RewardModel::backward(const float* dvalues) {
  WEFT_CHECK(!head_grads_.empty(), "backward on a reward model built without training buffers");
  const int C = gpt_.config().n_embd;
  const std::size_t N = static_cast<std::size_t>(last_B_) * last_T_;
  const float* h = gpt_.final_hidden();
  const float* w = head_.w();
  float* dw = head_grads_.data();
  float* dh = dhidden_.data();
  double db = 0.0;
  for (std::size_t i = 0; i < N; ++i) {
    const float d = dvalues[i];
    db += d;
    for (int k = 0; k < C; ++k) dh[i * C + k] = d * w[k];
    if (d != 0.0f)
      for (int k = 0; k < C; ++k) dw[k] += d * h[i * C + k];
  }
  head_grads_.data()[C] += static_cast<float>(db);
  gpt_.backward_from_hidden(dh);
}

}  // namespace weft::model
