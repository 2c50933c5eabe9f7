// PPO's critic. See value_model.hpp.
#include "train/value_model.hpp"

#include <cmath>
#include <cstring>

#include "core/error.hpp"
#include "kernels/cpu/grad_norm.hpp"

namespace weft::train {

ValueModel::ValueModel(const model::GptConfig& config, const float* params,
                       std::span<const float> head, int B, int T, bool training)
    : model_(config, B, T, training), head_(head.begin(), head.end()) {
  if (training) optimizer_ = std::make_unique<AdamWOptimizer>(model_.layout());
  WEFT_CHECK(head_.size() == static_cast<std::size_t>(config.n_embd) + 1);
  std::copy(params, params + model_.num_params(), model_.params());
  head_grad_.assign(head_.size(), 0.0f);
  head_m_.assign(head_.size(), 0.0f);
  head_v_.assign(head_.size(), 0.0f);
}

void ValueModel::values(const ResponseBatch& batch, std::span<float> out) {
  WEFT_CHECK(static_cast<int>(out.size()) == batch.total_response());
  model_.forward_hidden(batch.tokens.data(), batch.B, batch.T);
  const int C = model_.config().n_embd;
  const float* h = model_.final_hidden();
  for (int b = 0; b < batch.B; ++b)
    for (int j = 0; j < batch.response_len[b]; ++j) {
      const float* x = h + (static_cast<std::size_t>(b) * batch.T + batch.prompt_len[b] + j - 1) * C;
      double v = head_[static_cast<std::size_t>(C)];
      for (int c = 0; c < C; ++c) v += static_cast<double>(head_[static_cast<std::size_t>(c)]) * x[c];
      out[static_cast<std::size_t>(batch.offset[b] + j)] = static_cast<float>(v);
    }
}

void ValueModel::last_token_scores(const ResponseBatch& batch, std::span<float> out) {
  WEFT_CHECK(static_cast<int>(out.size()) == batch.B);
  model_.forward_hidden(batch.tokens.data(), batch.B, batch.T);
  const int C = model_.config().n_embd;
  const float* h = model_.final_hidden();
  for (int b = 0; b < batch.B; ++b) {
    const int last = batch.prompt_len[b] + batch.response_len[b] - 1;
    const float* x = h + (static_cast<std::size_t>(b) * batch.T + last) * C;
    double v = head_[static_cast<std::size_t>(C)];
    for (int c = 0; c < C; ++c) v += static_cast<double>(head_[static_cast<std::size_t>(c)]) * x[c];
    out[static_cast<std::size_t>(b)] = static_cast<float>(v);
  }
}

void ValueModel::backward(const ResponseBatch& batch, std::span<const float> dvalues) {
  const int C = model_.config().n_embd;
  const std::size_t need = static_cast<std::size_t>(batch.B) * batch.T * C;
  if (dhidden_.size() < need) dhidden_.allocate(need);
  std::memset(dhidden_.data(), 0, need * sizeof(float));
  model_.zero_grad();
  std::fill(head_grad_.begin(), head_grad_.end(), 0.0f);
  const float* h = model_.final_hidden();
  for (int b = 0; b < batch.B; ++b)
    for (int j = 0; j < batch.response_len[b]; ++j) {
      const std::size_t row = static_cast<std::size_t>(b) * batch.T + batch.prompt_len[b] + j - 1;
      const float g = dvalues[static_cast<std::size_t>(batch.offset[b] + j)];
      const float* x = h + row * C;
      float* dx = dhidden_.data() + row * C;
      for (int c = 0; c < C; ++c) {
        dx[c] += g * head_[static_cast<std::size_t>(c)];
        head_grad_[static_cast<std::size_t>(c)] += g * x[c];
      }
      head_grad_[static_cast<std::size_t>(C)] += g;
    }
  model_.backward_from_hidden(dhidden_.data());
}

double ValueModel::grad_sum_squares() const {
  double s = cpu::grad_sum_squares(model_.grads(), model_.num_params());
  for (float g : head_grad_) s += static_cast<double>(g) * g;
  return s;
}

void ValueModel::optimizer_step(const cpu::AdamWConfig& config, float grad_scale) {
  WEFT_CHECK(optimizer_ != nullptr, "optimizer_step on a scoring-only ValueModel");
  optimizer_->step(model_.params(), model_.grads(), config, grad_scale);
  // The head: plain AdamW without weight decay (as for biases).
  const cpu::AdamWRange all{0, head_.size(), false};
  ++head_t_;
  cpu::adamw_update(head_.data(), head_m_.data(), head_v_.data(), head_grad_.data(), head_.size(),
                    std::span<const cpu::AdamWRange>(&all, 1), config, head_t_, grad_scale);
}

}  // namespace weft::train
