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

namespace {

// The stage in full-model layer numbers (layer_end < 0: to the last layer), checked.
StageSpec checked_stage(StageSpec s, const GptConfig& full) {
  full.validate();
  if (s.layer_end < 0) s.layer_end = full.n_layer;
  if (s.layer_begin < 0 || s.layer_begin >= s.layer_end || s.layer_end > full.n_layer)
    throw config_error(str("pipeline stage [", s.layer_begin, ", ", s.layer_end,
                           ") is not a non-empty range of the model's ", full.n_layer, " layers"));
  return s;
}

// The full config with the stage's layer count: its ParamLayout is the stage's buffer.
GptConfig stage_config(GptConfig c, const StageSpec& s) {
  c.n_layer = s.layer_end - s.layer_begin;
  return c;
}

}  // namespace

GptModel::GptModel(const GptConfig& config, int B, int T, bool training, TpShard tp,
                   StageSpec stage)
    : config_(stage_config(config, checked_stage(stage, config))),
      tp_(tp),
      stage_(checked_stage(stage, config)),
      last_stage_(stage_.layer_end == config.n_layer),
      layout_(config_, tp.size) {
  WEFT_CHECK(tp.size >= 1 && tp.rank >= 0 && tp.rank < tp.size);
  if (B < 1 || T < 1 || T > config_.max_seq)
    throw config_error(str("batch ", B, "×", T, " does not fit the model: need B >= 1 and 1 <= T <= ",
                           config_.max_seq, " (max_seq)"));
  params_.allocate(layout_.total());  // on huge pages (aligned_buffer.hpp)
  if (training) grads_.allocate(layout_.total());
  slots_.push_back(std::make_unique<Slot>());
  cur_ = slots_[0].get();
  cur_->acts.allocate(config_, B, T, training, tp_.size, last_stage_);
  cur_->inp.allocate(static_cast<std::size_t>(B) * T);
  doc_start_.allocate(static_cast<std::size_t>(B) * T);
  pos_.allocate(static_cast<std::size_t>(B) * T);
  ce_stats_.allocate(3 * static_cast<std::size_t>(B) * T);
}

void GptModel::set_activation_slots(int n) {
  WEFT_CHECK(n >= 1, "set_activation_slots(", n, ")");
  slots_.resize(std::min<std::size_t>(slots_.size(), static_cast<std::size_t>(n)));
  const ActivationArena& a0 = slots_[0]->acts;
  while (slots_.size() < static_cast<std::size_t>(n)) {
    auto s = std::make_unique<Slot>();
    s->acts.allocate(config_, a0.B, a0.T, /*with_backward=*/false, tp_.size, last_stage_);
    // Backward scratch: one backward at a time, so every slot shares slot 0's.
    s->acts.dresidual = a0.dresidual;
    s->acts.dbuf = a0.dbuf;
    s->acts.dqkv = a0.dqkv;
    s->acts.dfch = a0.dfch;
    s->acts.att_scratch = a0.att_scratch;
    s->acts.att_scratch_floats = a0.att_scratch_floats;
    s->inp.allocate(static_cast<std::size_t>(a0.B) * a0.T);
    slots_.push_back(std::move(s));
  }
  cur_ = slots_[0].get();
}

void GptModel::use_slot(int s) {
  WEFT_CHECK(s >= 0 && s < activation_slots(), "activation slot ", s, " of ", activation_slots());
  cur_ = slots_[static_cast<std::size_t>(s)].get();
}

std::size_t GptModel::activation_floats() const {
  std::size_t n = 0;
  for (const auto& s : slots_) n += s->acts.floats();
  return n;
}

const float* GptModel::stage_output() const {
  WEFT_CHECK(!last_stage_, "stage_output() on the last stage");
  return cur_->acts.residual3 + static_cast<std::size_t>(config_.n_layer - 1) * cur_->acts.stride_btc;
}

std::span<const std::int32_t> GptModel::slot_tokens() const {
  if (!first_stage()) return {};
  return {cur_->inp.data(), static_cast<std::size_t>(cur_->B) * static_cast<std::size_t>(cur_->T)};
}

const float* GptModel::stage_input_grad() const {
  WEFT_CHECK(!first_stage(), "stage_input_grad() on the first stage");
  return cur_->acts.dresidual;
}

void GptModel::init_weights(std::uint64_t seed) {
  WEFT_CHECK(tp_.size == 1, "init_weights on a tensor-parallel shard: init the full model and "
             "slice it (parallel::tp_init_weights)");
  init_weights_full(config_, seed, params_.data());
  bf16_stale_ = true;
}

void GptModel::init_weights_full(const GptConfig& config, std::uint64_t seed, float* p) {
  const ParamLayout layout(config);
  Rng rng(seed);
  const float std_base = 0.02f;
  const float std_proj = 0.02f / std::sqrt(2.0f * static_cast<float>(config.n_layer));
  std::memset(p, 0, layout.total() * sizeof(float));
  for (const ParamTensor& t : layout.tensors()) {
    float* dst = p + t.offset;
    if (t.name == "ln1w" || t.name == "ln2w" || t.name == "lnfw") {
      for (std::size_t i = 0; i < t.size; ++i) dst[i] = 1.0f;
    } else if (t.is_matrix) {
      const float s = (t.name == "attprojw" || t.name == "fcprojw") ? std_proj : std_base;
      // Padded vocabulary rows stay 0, so they never win a softmax by accident.
      const std::size_t n = t.name == "wte" ? static_cast<std::size_t>(config.vocab) * config.n_embd
                                            : t.size;
      for (std::size_t i = 0; i < n; ++i) dst[i] = s * rng.normal();
    }  // biases stay 0
  }
}

void GptModel::zero_grad() {
  WEFT_CHECK(!grads_.empty(), "zero_grad on a model built without training buffers");
  std::memset(grads_.data(), 0, grads_.bytes());
}

cpu::Precision GptModel::set_precision(cpu::Precision precision, const char* what) {
  precision_ = cpu::precision_in_effect(precision, what);
  if (precision_ == cpu::Precision::kBf16) {
    if (!bf16_matmul_) bf16_matmul_ = std::make_unique<cpu::Bf16Matmul>();
    if (params_bf16_.empty()) params_bf16_.allocate(layout_.total(), /*zero=*/false);
  }
  bf16_stale_ = true;
  return precision_;
}

cpu::bf16* GptModel::params_bf16_for_update() {
  if (precision_ != cpu::Precision::kBf16) return nullptr;
  bf16_stale_ = false;
  return params_bf16_.data();
}

double GptModel::bf16_matmul_seconds() const {
  return bf16_matmul_ ? bf16_matmul_->seconds() : 0.0;
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
  const ActivationArena& a = cur_->acts;
  if (B < 1 || T < 1 || B * T > a.B * a.T || T > a.T)
    throw config_error(str("batch ", B, "×", T, " exceeds the model's activation capacity ",
                           a.B, "×", a.T));
}

void GptModel::forward_body(const std::int32_t* inp, const float* residual_in, int B, int T,
                            bool with_logits) {
  check_shape(B, T);
  const int C = config_.n_embd, L = config_.n_layer, V = config_.vocab;
  // This tp rank's shard: Cs channels (NHs heads) of qkv/attention/MLP, Vs vocabulary rows.
  const int Cs = C / tp_.size, NHs = config_.n_head / tp_.size;
  const int Vs = config_.padded_vocab / tp_.size, v0 = tp_.rank * Vs;
  const bool bias_here = tp_.rank == 0;  // row-parallel biases: added once, before the sum
  const int N = B * T;
  const std::size_t NC = static_cast<std::size_t>(N) * C;
  Slot& slot = *cur_;
  if (first_stage())
    std::memcpy(slot.inp.data(), inp, static_cast<std::size_t>(N) * sizeof(std::int32_t));
  slot.B = B;
  slot.T = T;
  slot.backward_ready = false;
  slot.acts_saved = !grads_.empty();
  slot.logits_valid = with_logits && last_stage_;
  const ParamViews<float> p = ParamViews<float>::make(layout_, params_.data());
  ActivationArena& a = slot.acts;
  // bf16: round the master weights when they changed since the last copy (once per
  // optimizer step, or none when the optimizer wrote the copy); backward reuses it.
  // TODO(zero3): with ZeRO-3 this must happen per unit after params_needed().
  if (precision_ == cpu::Precision::kBf16 && bf16_stale_) {
    cpu::f32_to_bf16_array(params_bf16_.data(), params_.data(), layout_.total());
    bf16_stale_ = false;
  }

  const std::int32_t* pos = packed_B_ ? pos_.data() : nullptr;
  const std::int32_t* doc_start = packed_B_ ? doc_start_.data() : nullptr;
  if (packed_B_ && (B != packed_B_ || T != packed_T_))
    throw config_error(str("forward of ", B, "×", T, " after set_doc_starts for ", packed_B_, "×",
                           packed_T_));

  hooks_->params_needed(kUnitEmbedding, Pass::kForward);
  if (first_stage()) {
    cpu::embedding_forward_shard(a.encoded, inp, p.wte, p.wpe, B, T, C, V, v0, Vs, tp_.rank == 0,
                                   pos);
    hooks_->sum_vocab_parallel_embedding(a.encoded, NC);
  } else {  // a later pipeline stage: the incoming residual is this stage's input, saved
    std::memcpy(a.encoded, residual_in, NC * sizeof(float));
  }
  hooks_->params_done(kUnitEmbedding, Pass::kForward);

  for (int l = 0; l < L; ++l) {
    hooks_->params_needed(l, Pass::kForward);
    const float* residual = l == 0 ? a.encoded : a.residual3 + (l - 1) * a.stride_btc;
    float* ln1 = a.ln1 + l * a.stride_btc;
    float* ln1_mean = a.ln1_mean + l * a.stride_bt;
    float* ln1_rstd = a.ln1_rstd + l * a.stride_bt;
    float* qkv = a.qkv + l * 3 * a.stride_btc_tp;
    float* atty = a.atty + l * a.stride_btc_tp;
    float* att = a.att + l * a.stride_att;
    float* residual2 = a.residual2 + l * a.stride_btc;
    float* ln2 = a.ln2 + l * a.stride_btc;
    float* ln2_mean = a.ln2_mean + l * a.stride_bt;
    float* ln2_rstd = a.ln2_rstd + l * a.stride_bt;
    float* fch = a.fch + l * 4 * a.stride_btc_tp;
    float* fch_gelu = a.fch_gelu + l * 4 * a.stride_btc_tp;
    float* residual3 = a.residual3 + l * a.stride_btc;

    cpu::layernorm_forward(ln1, ln1_mean, ln1_rstd, residual, p.ln1w + l * C, p.ln1b + l * C, N, C);
    // Column-parallel qkv (this rank's heads of q, k and v), attention on those heads,
    // row-parallel projection (partial sums, all-reduced by the hook).
    linear_forward(qkv, ln1, p.qkvw + l * 3 * Cs * C, p.qkvb + l * 3 * Cs, N, C, 3 * Cs);
    cpu::attention_forward(atty, att, qkv, B, T, Cs, NHs, doc_start);
    // The projection's output goes straight into the residual buffer, then the skip is added.
    linear_forward(residual2, atty, p.attprojw + l * C * Cs, bias_here ? p.attprojb + l * C : nullptr,
                   N, Cs, C);
    hooks_->sum_row_parallel_output(residual2, NC);
    cpu::add_inplace(residual2, residual, NC);
    cpu::layernorm_forward(ln2, ln2_mean, ln2_rstd, residual2, p.ln2w + l * C, p.ln2b + l * C, N, C);
    linear_forward(fch, ln2, p.fcw + l * 4 * Cs * C, p.fcb + l * 4 * Cs, N, C, 4 * Cs);
    cpu::gelu_forward(fch_gelu, fch, 4 * static_cast<std::size_t>(N) * Cs);
    linear_forward(residual3, fch_gelu, p.fcprojw + l * 4 * Cs * C,
                   bias_here ? p.fcprojb + l * C : nullptr, N, 4 * Cs, C);
    hooks_->sum_row_parallel_output(residual3, NC);
    cpu::add_inplace(residual3, residual2, NC);
    hooks_->params_done(l, Pass::kForward);
  }

  if (!last_stage_) return;
  hooks_->params_needed(unit_head(L), Pass::kForward);
  hooks_->params_needed(kUnitEmbedding, Pass::kForward);  // tied LM head reads wte
  const float* last = a.residual3 + (L - 1) * a.stride_btc;
  cpu::layernorm_forward(a.lnf, a.lnf_mean, a.lnf_rstd, last, p.lnfw, p.lnfb, N, C);
  if (with_logits)  // this rank's vocabulary columns
    linear_forward(a.logits, a.lnf, p.wte, nullptr, N, C, Vs);
  hooks_->params_done(kUnitEmbedding, Pass::kForward);
  hooks_->params_done(unit_head(L), Pass::kForward);
}

float GptModel::forward(const std::int32_t* inp, const std::int32_t* targets, const float* weights,
                        int B, int T) {
  WEFT_CHECK(first_stage() && last_stage_, "forward() runs the whole model, not a stage");
  forward_body(inp, nullptr, B, T);
  if (targets == nullptr) return -1.0f;
  const cpu::ClassifierLoss r = classifier(targets, weights, B * T, false, 1.0f);
  last_weight_sum_ = r.weight_sum;
  return static_cast<float>(r.loss);
}

float GptModel::forward_train(const std::int32_t* inp, const std::int32_t* targets,
                              const float* weights, int B, int T, float grad_scale) {
  return forward_train_stage(inp, nullptr, targets, weights, B, T, grad_scale);
}

float GptModel::forward_train_stage(const std::int32_t* inp, const float* residual_in,
                                    const std::int32_t* targets, const float* weights, int B,
                                    int T, float grad_scale) {
  WEFT_CHECK(!grads_.empty(), "forward_train on a model built without training buffers");
  WEFT_CHECK(first_stage() ? inp != nullptr : residual_in != nullptr);
  WEFT_CHECK(!last_stage_ || targets != nullptr);
  forward_body(inp, residual_in, B, T);
  cur_->backward_ready = true;
  if (!last_stage_) {
    last_weight_sum_ = 0.0;
    return 0.0f;
  }
  const cpu::ClassifierLoss r = classifier(targets, weights, B * T, true, grad_scale);
  last_weight_sum_ = r.weight_sum;
  return static_cast<float>(r.loss);
}

cpu::ClassifierLoss GptModel::classifier(const std::int32_t* targets, const float* weights, int N,
                                        bool with_grad, float grad_scale) {
  cpu::ClassifierShard s;
  s.Vs = config_.padded_vocab / tp_.size;
  s.v0 = tp_.rank * s.Vs;
  s.V = config_.vocab;
  const std::size_t n = static_cast<std::size_t>(N);
  double* row_max = ce_stats_.data();  // (N)
  double* sums = row_max + n;          // (2, N): Σexp | target logit
  const double wsum = cpu::classifier_shard_max(row_max, cur_->acts.logits, targets, weights, N, s);
  hooks_->reduce_vocab_parallel_stats(row_max, n, /*max=*/true);
  cpu::classifier_shard_sums(sums, cur_->acts.logits, targets, weights, row_max, N, s, with_grad);
  hooks_->reduce_vocab_parallel_stats(sums, 2 * n, /*max=*/false);
  return cpu::classifier_shard_finish(cur_->acts.losses, cur_->acts.logits, targets, weights, row_max, sums,
                                      N, s, wsum, with_grad, grad_scale);
}

void GptModel::backward() { backward_stage(nullptr); }

void GptModel::backward_stage(const float* dresidual_out) {
  WEFT_CHECK(cur_->backward_ready, "backward() needs a forward_train() first");
  WEFT_CHECK(last_stage_ == (dresidual_out == nullptr),
             "backward_stage: d(stage output) is given on non-last stages only");
  // The last stage's logits hold dlogits (fused classifier).
  backward_impl(last_stage_ ? cur_->acts.logits : nullptr, nullptr, dresidual_out);
}

void GptModel::backward_impl(const float* dlogits, const float* dhidden,
                             const float* dresidual_out) {
  cur_->backward_ready = false;
  cur_->acts_saved = false;
  const int B = cur_->B, T = cur_->T;
  const int C = config_.n_embd, L = config_.n_layer;
  const int Cs = C / tp_.size, NHs = config_.n_head / tp_.size;
  const int Vs = config_.padded_vocab / tp_.size, v0 = tp_.rank * Vs;
  const int N = B * T;
  const std::size_t NC = static_cast<std::size_t>(N) * C;
  const ParamViews<float> p = ParamViews<float>::make(layout_, params_.data());
  const ParamViews<float> g = grad_views();
  ActivationArena& a = cur_->acts;
  if (a.att_scratch_floats < cpu::attention_backward_scratch_size(T))
    throw config_error("the thread count grew after the model was built",
                       "set the thread count before building the model");

  if (!last_stage_) {  // the next stage sent d(this stage's output residual)
    std::memcpy(a.dresidual, dresidual_out, NC * sizeof(float));
    hooks_->grads_ready(unit_head(L));  // nothing to add: lnf is unused here
  } else {
    // Head: d(lnf) from the LM head's dlogits and/or a caller's head on lnf.
    hooks_->params_needed(kUnitEmbedding, Pass::kBackward);
    hooks_->params_needed(unit_head(L), Pass::kBackward);
    const float* last = a.residual3 + (L - 1) * a.stride_btc;
    // The LM head is column-parallel over the vocabulary: dlnf sums over the tp group.
    if (dlogits != nullptr) {
      linear_backward(a.dbuf, g.wte, nullptr, dlogits, a.lnf, p.wte, N, C, Vs);
      hooks_->sum_column_parallel_input_grad(a.dbuf, NC);
    } else {
      std::memset(a.dbuf, 0, NC * sizeof(float));
    }
    // A head on lnf is replicated over the tp group: its gradient is added after the sum.
    if (dhidden != nullptr) cpu::add_inplace(a.dbuf, dhidden, NC);
    cpu::layernorm_backward(a.dresidual, g.lnfw, g.lnfb, a.dbuf, last, p.lnfw, a.lnf_mean,
                            a.lnf_rstd, N, C);
    hooks_->params_done(unit_head(L), Pass::kBackward);
    hooks_->params_done(kUnitEmbedding, Pass::kBackward);
    hooks_->grads_ready(unit_head(L));
  }

  // Blocks, last to first. dresidual holds d(residual3 of layer l) on entry.
  for (int l = L - 1; l >= 0; --l) {
    hooks_->params_needed(l, Pass::kBackward);
    const float* residual = l == 0 ? a.encoded : a.residual3 + (l - 1) * a.stride_btc;
    const float* ln1 = a.ln1 + l * a.stride_btc;
    const float* qkv = a.qkv + l * 3 * a.stride_btc_tp;
    const float* atty = a.atty + l * a.stride_btc_tp;
    const float* att = a.att + l * a.stride_att;
    const float* residual2 = a.residual2 + l * a.stride_btc;
    const float* ln2 = a.ln2 + l * a.stride_btc;
    const float* fch = a.fch + l * 4 * a.stride_btc_tp;
    const float* fch_gelu = a.fch_gelu + l * 4 * a.stride_btc_tp;

    // MLP: residual3 = residual2 + fcproj(gelu(fc(ln2(residual2)))).
    // Row-parallel fcproj: dresidual is replicated, so every tp rank computes the whole
    // (replicated) bias gradient and its own weight columns' gradient.
    linear_backward(a.dfch, g.fcprojw + l * 4 * Cs * C, g.fcprojb + l * C, a.dresidual,
                    fch_gelu, p.fcprojw + l * 4 * Cs * C, N, 4 * Cs, C);
    cpu::gelu_backward(a.dfch, a.dfch, fch, 4 * static_cast<std::size_t>(N) * Cs);
    linear_backward(a.dbuf, g.fcw + l * 4 * Cs * C, g.fcb + l * 4 * Cs, a.dfch, ln2,
                    p.fcw + l * 4 * Cs * C, N, C, 4 * Cs);
    hooks_->sum_column_parallel_input_grad(a.dbuf, NC);
    cpu::layernorm_backward_add(a.dresidual, g.ln2w + l * C, g.ln2b + l * C, a.dbuf, residual2,
                                p.ln2w + l * C, a.ln2_mean + l * a.stride_bt,
                                a.ln2_rstd + l * a.stride_bt, N, C);
    // Attention: residual2 = residual + attproj(attention(qkv(ln1(residual)))).
    linear_backward(a.dbuf, g.attprojw + l * C * Cs, g.attprojb + l * C, a.dresidual, atty,
                    p.attprojw + l * C * Cs, N, Cs, C);
    cpu::attention_backward(a.dqkv, a.att_scratch, a.att_scratch_floats, a.dbuf, att, qkv, B, T,
                            Cs, NHs);
    linear_backward(a.dbuf, g.qkvw + l * 3 * Cs * C, g.qkvb + l * 3 * Cs, a.dqkv, ln1,
                    p.qkvw + l * 3 * Cs * C, N, C, 3 * Cs);
    hooks_->sum_column_parallel_input_grad(a.dbuf, NC);
    cpu::layernorm_backward_add(a.dresidual, g.ln1w + l * C, g.ln1b + l * C, a.dbuf, residual,
                                p.ln1w + l * C, a.ln1_mean + l * a.stride_bt,
                                a.ln1_rstd + l * a.stride_bt, N, C);
    hooks_->params_done(l, Pass::kBackward);
    hooks_->grads_ready(l);
  }

  // Every tp rank adds its own wte rows and the whole (replicated) wpe gradient. A
  // later pipeline stage leaves d(input residual) in dresidual for the previous stage.
  if (first_stage())
    cpu::embedding_backward_shard(g.wte, g.wpe, a.dresidual, cur_->inp.data(), B, T, C, v0, Vs,
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
