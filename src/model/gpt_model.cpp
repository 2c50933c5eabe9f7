// GPT-2 forward/backward over the CPU kernels. See gpt_model.hpp.
#include "model/gpt_model.hpp"

#include <cmath>
#include <cstring>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/rng.hpp"
#include "kernels/cpu/attention.hpp"
#include "kernels/cpu/classifier.hpp"
#include "kernels/cpu/embedding.hpp"
#include "kernels/cpu/gelu.hpp"
#include "kernels/cpu/layernorm.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/residual.hpp"

namespace weft::model {

GptModel::GptModel(const GptConfig& config, int B, int T, bool training)
    : config_(config), layout_(config) {
  config_.validate();
  if (B < 1 || T < 1 || T > config_.max_seq)
    throw config_error(str("batch ", B, "×", T, " does not fit the model: need B >= 1 and 1 <= T <= ",
                           config_.max_seq, " (max_seq)"));
  params_.allocate(layout_.total());
  if (training) grads_.allocate(layout_.total());
  acts_.allocate(config_, B, T, training);
  last_inp_.allocate(static_cast<std::size_t>(B) * T);
  doc_start_.allocate(static_cast<std::size_t>(B) * T);
  pos_.allocate(static_cast<std::size_t>(B) * T);
}

void GptModel::init_weights(std::uint64_t seed) {
  Rng rng(seed);
  const float std_base = 0.02f;
  const float std_proj = 0.02f / std::sqrt(2.0f * static_cast<float>(config_.n_layer));
  float* p = params_.data();
  std::memset(p, 0, params_.bytes());
  for (const ParamTensor& t : layout_.tensors()) {
    float* dst = p + t.offset;
    if (t.name == "ln1w" || t.name == "ln2w" || t.name == "lnfw") {
      for (std::size_t i = 0; i < t.size; ++i) dst[i] = 1.0f;
    } else if (t.is_matrix) {
      const float s = (t.name == "attprojw" || t.name == "fcprojw") ? std_proj : std_base;
      // Padded vocabulary rows stay 0, so they never win a softmax by accident.
      const std::size_t n = t.name == "wte" ? static_cast<std::size_t>(config_.vocab) * config_.n_embd
                                            : t.size;
      for (std::size_t i = 0; i < n; ++i) dst[i] = s * rng.normal();
    }  // biases stay 0
  }
}

void GptModel::zero_grad() {
  WEFT_CHECK(!grads_.empty(), "zero_grad on a model built without training buffers");
  std::memset(grads_.data(), 0, grads_.bytes());
}

cpu::Precision GptModel::set_precision(cpu::Precision precision) {
  if (precision == cpu::Precision::kBf16 && !cpu::bf16_matmul_available()) {
    log_warn("--precision bf16: ", cpu::bf16_matmul_status(), "; training in fp32 instead");
    precision = cpu::Precision::kFp32;
  }
  precision_ = precision;
  if (precision_ == cpu::Precision::kBf16) {
    if (!bf16_matmul_) bf16_matmul_ = std::make_unique<cpu::Bf16Matmul>();
    if (params_bf16_.empty()) params_bf16_.allocate(layout_.total(), /*zero=*/false);
  }
  return precision_;
}

void GptModel::linear_forward(float* out, const float* inp, const float* weight, const float* bias,
                              int N, int C, int OC) {
  if (precision_ == cpu::Precision::kFp32) {
    cpu::matmul_forward(out, inp, weight, bias, N, C, OC);
    return;
  }
  bf16_matmul_->forward(out, inp, params_bf16_.data() + (weight - params_.data()), bias, N, C, OC);
}

void GptModel::linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                               const float* inp, const float* weight, int N, int C, int OC) {
  if (precision_ == cpu::Precision::kFp32) {
    cpu::matmul_backward(dinp, dweight, dbias, dout, inp, weight, N, C, OC);
    return;
  }
  bf16_matmul_->backward(dinp, dweight, dbias, dout, inp,
                         params_bf16_.data() + (weight - params_.data()), N, C, OC);
}

void GptModel::check_shape(int B, int T) const {
  if (B < 1 || T < 1 || B * T > acts_.B * acts_.T || T > acts_.T)
    throw config_error(str("batch ", B, "×", T, " exceeds the model's activation capacity ",
                           acts_.B, "×", acts_.T));
}

void GptModel::forward_body(const std::int32_t* inp, int B, int T, bool with_logits) {
  check_shape(B, T);
  const int C = config_.n_embd, NH = config_.n_head, L = config_.n_layer;
  const int V = config_.vocab, Vp = config_.padded_vocab;
  const int N = B * T;
  const std::size_t NC = static_cast<std::size_t>(N) * C;
  std::memcpy(last_inp_.data(), inp, static_cast<std::size_t>(N) * sizeof(std::int32_t));
  last_B_ = B;
  last_T_ = T;
  backward_ready_ = false;
  acts_saved_ = !grads_.empty();
  logits_valid_ = with_logits;
  const ParamViews<float> p = param_views();
  ActivationArena& a = acts_;
  // bf16: round the master weights once per forward (backward reuses the copy).
  // TODO(zero3): with ZeRO-3 this must happen per unit after params_needed().
  if (precision_ == cpu::Precision::kBf16)
    cpu::f32_to_bf16_array(params_bf16_.data(), params_.data(), layout_.total());

  const std::int32_t* pos = packed_B_ ? pos_.data() : nullptr;
  const std::int32_t* doc_start = packed_B_ ? doc_start_.data() : nullptr;
  if (packed_B_ && (B != packed_B_ || T != packed_T_))
    throw config_error(str("forward of ", B, "×", T, " after set_doc_starts for ", packed_B_, "×",
                           packed_T_));

  hooks_->params_needed(kUnitEmbedding, Pass::kForward);
  cpu::embedding_forward(a.encoded, inp, p.wte, p.wpe, B, T, C, V, pos);
  hooks_->params_done(kUnitEmbedding, Pass::kForward);

  for (int l = 0; l < L; ++l) {
    hooks_->params_needed(l, Pass::kForward);
    const float* residual = l == 0 ? a.encoded : a.residual3 + (l - 1) * a.stride_btc;
    float* ln1 = a.ln1 + l * a.stride_btc;
    float* ln1_mean = a.ln1_mean + l * a.stride_bt;
    float* ln1_rstd = a.ln1_rstd + l * a.stride_bt;
    float* qkv = a.qkv + l * 3 * a.stride_btc;
    float* atty = a.atty + l * a.stride_btc;
    float* att = a.att + l * a.stride_att;
    float* residual2 = a.residual2 + l * a.stride_btc;
    float* ln2 = a.ln2 + l * a.stride_btc;
    float* ln2_mean = a.ln2_mean + l * a.stride_bt;
    float* ln2_rstd = a.ln2_rstd + l * a.stride_bt;
    float* fch = a.fch + l * 4 * a.stride_btc;
    float* fch_gelu = a.fch_gelu + l * 4 * a.stride_btc;
    float* residual3 = a.residual3 + l * a.stride_btc;

    cpu::layernorm_forward(ln1, ln1_mean, ln1_rstd, residual, p.ln1w + l * C, p.ln1b + l * C, N, C);
    linear_forward(qkv, ln1, p.qkvw + l * 3 * C * C, p.qkvb + l * 3 * C, N, C, 3 * C);
    cpu::attention_forward(atty, att, qkv, B, T, C, NH, doc_start);
    // The projection's output goes straight into the residual buffer, then the skip is added.
    linear_forward(residual2, atty, p.attprojw + l * C * C, p.attprojb + l * C, N, C, C);
    hooks_->sum_row_parallel_output(residual2, NC);
    cpu::add_inplace(residual2, residual, NC);
    cpu::layernorm_forward(ln2, ln2_mean, ln2_rstd, residual2, p.ln2w + l * C, p.ln2b + l * C, N, C);
    linear_forward(fch, ln2, p.fcw + l * 4 * C * C, p.fcb + l * 4 * C, N, C, 4 * C);
    cpu::gelu_forward(fch_gelu, fch, 4 * NC);
    linear_forward(residual3, fch_gelu, p.fcprojw + l * 4 * C * C, p.fcprojb + l * C, N,
                        4 * C, C);
    hooks_->sum_row_parallel_output(residual3, NC);
    cpu::add_inplace(residual3, residual2, NC);
    hooks_->params_done(l, Pass::kForward);
  }

  hooks_->params_needed(unit_head(L), Pass::kForward);
  hooks_->params_needed(kUnitEmbedding, Pass::kForward);  // tied LM head reads wte
  const float* last = a.residual3 + (L - 1) * a.stride_btc;
  cpu::layernorm_forward(a.lnf, a.lnf_mean, a.lnf_rstd, last, p.lnfw, p.lnfb, N, C);
  if (with_logits) linear_forward(a.logits, a.lnf, p.wte, nullptr, N, C, Vp);
  hooks_->params_done(kUnitEmbedding, Pass::kForward);
  hooks_->params_done(unit_head(L), Pass::kForward);
}

float GptModel::forward(const std::int32_t* inp, const std::int32_t* targets, const float* weights,
                        int B, int T) {
  forward_body(inp, B, T);
  if (targets == nullptr) return -1.0f;
  const cpu::ClassifierLoss r = cpu::classifier_forward(
      acts_.losses, acts_.logits, targets, weights, B * T, config_.vocab, config_.padded_vocab);
  last_weight_sum_ = r.weight_sum;
  return static_cast<float>(r.loss);
}

float GptModel::forward_train(const std::int32_t* inp, const std::int32_t* targets,
                              const float* weights, int B, int T, float grad_scale) {
  WEFT_CHECK(!grads_.empty(), "forward_train on a model built without training buffers");
  WEFT_CHECK(targets != nullptr);
  forward_body(inp, B, T);
  const cpu::ClassifierLoss r =
      cpu::classifier_forward_backward(acts_.logits, acts_.losses, targets, weights, B * T,
                                       config_.vocab, config_.padded_vocab, grad_scale);
  last_weight_sum_ = r.weight_sum;
  backward_ready_ = true;
  return static_cast<float>(r.loss);
}

void GptModel::backward() {
  WEFT_CHECK(backward_ready_, "backward() needs a forward_train() first");
  backward_impl(acts_.logits, nullptr);
}

void GptModel::backward_impl(const float* dlogits, const float* dhidden) {
  backward_ready_ = false;
  acts_saved_ = false;
  const int B = last_B_, T = last_T_;
  const int C = config_.n_embd, NH = config_.n_head, L = config_.n_layer;
  const int Vp = config_.padded_vocab;
  const int N = B * T;
  const std::size_t NC = static_cast<std::size_t>(N) * C;
  const ParamViews<float> p = param_views();
  const ParamViews<float> g = grad_views();
  ActivationArena& a = acts_;
  if (a.att_scratch_floats < cpu::attention_backward_scratch_size(T))
    throw config_error("the thread count grew after the model was built",
                       "set the thread count before building the model");

  // Head: d(lnf) from the LM head's dlogits and/or a caller's head on lnf.
  hooks_->params_needed(kUnitEmbedding, Pass::kBackward);
  hooks_->params_needed(unit_head(L), Pass::kBackward);
  const float* last = a.residual3 + (L - 1) * a.stride_btc;
  if (dlogits != nullptr)
    linear_backward(a.dbuf, g.wte, nullptr, dlogits, a.lnf, p.wte, N, C, Vp);
  else
    std::memset(a.dbuf, 0, NC * sizeof(float));
  if (dhidden != nullptr) cpu::add_inplace(a.dbuf, dhidden, NC);
  cpu::layernorm_backward(a.dresidual, g.lnfw, g.lnfb, a.dbuf, last, p.lnfw, a.lnf_mean,
                          a.lnf_rstd, N, C);
  hooks_->params_done(unit_head(L), Pass::kBackward);
  hooks_->params_done(kUnitEmbedding, Pass::kBackward);
  hooks_->grads_ready(unit_head(L));

  // Blocks, last to first. dresidual holds d(residual3 of layer l) on entry.
  for (int l = L - 1; l >= 0; --l) {
    hooks_->params_needed(l, Pass::kBackward);
    const float* residual = l == 0 ? a.encoded : a.residual3 + (l - 1) * a.stride_btc;
    const float* ln1 = a.ln1 + l * a.stride_btc;
    const float* qkv = a.qkv + l * 3 * a.stride_btc;
    const float* atty = a.atty + l * a.stride_btc;
    const float* att = a.att + l * a.stride_att;
    const float* residual2 = a.residual2 + l * a.stride_btc;
    const float* ln2 = a.ln2 + l * a.stride_btc;
    const float* fch = a.fch + l * 4 * a.stride_btc;
    const float* fch_gelu = a.fch_gelu + l * 4 * a.stride_btc;

    // MLP: residual3 = residual2 + fcproj(gelu(fc(ln2(residual2)))).
    linear_backward(a.dfch, g.fcprojw + l * 4 * C * C, g.fcprojb + l * C, a.dresidual,
                         fch_gelu, p.fcprojw + l * 4 * C * C, N, 4 * C, C);
    cpu::gelu_backward(a.dfch, a.dfch, fch, 4 * NC);
    linear_backward(a.dbuf, g.fcw + l * 4 * C * C, g.fcb + l * 4 * C, a.dfch, ln2,
                         p.fcw + l * 4 * C * C, N, C, 4 * C);
    hooks_->sum_column_parallel_input_grad(a.dbuf, NC);
    cpu::layernorm_backward_add(a.dresidual, g.ln2w + l * C, g.ln2b + l * C, a.dbuf, residual2,
                                p.ln2w + l * C, a.ln2_mean + l * a.stride_bt,
                                a.ln2_rstd + l * a.stride_bt, N, C);
    // Attention: residual2 = residual + attproj(attention(qkv(ln1(residual)))).
    linear_backward(a.dbuf, g.attprojw + l * C * C, g.attprojb + l * C, a.dresidual, atty,
                         p.attprojw + l * C * C, N, C, C);
    cpu::attention_backward(a.dqkv, a.att_scratch, a.att_scratch_floats, a.dbuf, att, qkv, B, T,
                            C, NH);
    linear_backward(a.dbuf, g.qkvw + l * 3 * C * C, g.qkvb + l * 3 * C, a.dqkv, ln1,
                         p.qkvw + l * 3 * C * C, N, C, 3 * C);
    hooks_->sum_column_parallel_input_grad(a.dbuf, NC);
    cpu::layernorm_backward_add(a.dresidual, g.ln1w + l * C, g.ln1b + l * C, a.dbuf, residual,
                                p.ln1w + l * C, a.ln1_mean + l * a.stride_bt,
                                a.ln1_rstd + l * a.stride_bt, N, C);
    hooks_->params_done(l, Pass::kBackward);
    hooks_->grads_ready(l);
  }

  cpu::embedding_backward(g.wte, g.wpe, a.dresidual, last_inp_.data(), B, T, C,
                          packed_B_ ? pos_.data() : nullptr);
  hooks_->grads_ready(kUnitEmbedding);
}

double GptModel::train_flops(const GptConfig& c, int B, int T) {
  const ParamLayout layout(c);
  const double n = static_cast<double>(layout.total() - layout[ParamId::kWpe].size);
  const double tokens = static_cast<double>(B) * T;
  const double attn = 6.0 * c.n_layer * static_cast<double>(B) * T * T * c.n_embd;
  return 6.0 * n * tokens + attn;
}

}  // namespace weft::model
