// GPT-2 on one CUDA device. See gpt_model_cuda.hpp. The structure mirrors
// GptModel::forward_body/backward op for op, so the two can be compared tensor by tensor.
#include "model/gpt_model_cuda.hpp"

#include <cstring>
#include <type_traits>
#include <vector>

#include "core/error.hpp"
#include "kernels/cuda/adamw.hpp"
#include "kernels/cuda/attention.hpp"
#include "kernels/cuda/classifier.hpp"
#include "kernels/cuda/context.hpp"
#include "kernels/cuda/elementwise.hpp"
#include "kernels/cuda/embedding.hpp"
#include "kernels/cuda/layernorm.hpp"
#include "kernels/cuda/matmul.hpp"

namespace weft::model {
namespace {

using cuda::DeviceBuffer;

// Element counts of every device buffer for (config, B, T): one place, used both to
// allocate and to answer gpt_model_cuda_bytes without a device.
struct Sizes {
  std::size_t params, btc, bt, att, logits, scratch_f32, attn_scratch;
  int L;
  bool recompute;
  Sizes(const GptConfig& c, int B, int T, bool recompute_)
      : L(c.n_layer), recompute(recompute_) {
    params = ParamLayout(c).total();
    btc = static_cast<std::size_t>(B) * T * c.n_embd;
    bt = static_cast<std::size_t>(B) * T;
    att = static_cast<std::size_t>(B) * c.n_head * T * T;
    logits = bt * static_cast<std::size_t>(c.padded_vocab);
    const int N = B * T;
    scratch_f32 = std::max(cuda::layernorm_backward_scratch(N, c.n_embd),
                           cuda::bias_backward_scratch(N, 4 * c.n_embd));
    scratch_f32 = std::max(scratch_f32, cuda::grad_sum_squares_scratch());
    attn_scratch = cuda::attention_scratch(B, T, c.n_embd);
  }
  // Activation elements (type A, the activation type): saved for backward + backward scratch.
  std::size_t act_elems() const {
    const std::size_t per_layer = btc * (1 + 3 + 1 + 1 + 1 + 4 + 1) + (recompute ? 0 : btc * 4 + att);
    const std::size_t saved = btc /*encoded*/ + L * per_layer + btc /*lnf*/ + logits;
    const std::size_t scratch = btc * (1 + 1 + 3 + 4) + att /*datt*/ + attn_scratch +
                                (recompute ? att + 4 * btc : 0);
    return saved + scratch;
  }
  std::size_t f32_elems() const {
    return 4 * params /*master, grads, m, v*/ + (2 * L + 2) * 2 * bt /*ln stats*/ + bt /*losses*/ +
           scratch_f32;
  }
};

template <typename A>
class GptModelCudaImpl final : public GptModelCuda {
 public:
  GptModelCudaImpl(const GptConfig& config, int B, int T, const GpuModelOptions& o)
      : config_(config), layout_(config), ctx_(o.deterministic), sizes_(config, B, T, o.recompute),
        Bmax_(B), Tmax_(T), recompute_(o.recompute) {
    config_.validate();
    if (B < 1 || T < 1 || T > config_.max_seq)
      throw config_error(str("batch ", B, "×", T, " does not fit the model (max_seq ",
                             config_.max_seq, ")"));
    const std::size_t P = sizes_.params;
    params_.allocate(P, true);
    grads_.allocate(P, true);
    m_.allocate(P, true);
    v_.allocate(P, true);
    if constexpr (!std::is_same_v<A, float>) params_t_.allocate(P, true);
    const int L = config_.n_layer;
    const std::size_t btc = sizes_.btc, bt = sizes_.bt, att = sizes_.att;
    encoded_.allocate(btc);
    ln1_.allocate(L * btc);
    qkv_.allocate(L * 3 * btc);
    atty_.allocate(L * btc);
    residual2_.allocate(L * btc);
    ln2_.allocate(L * btc);
    fch_.allocate(L * 4 * btc);
    residual3_.allocate(L * btc);
    if (!recompute_) {
      att_.allocate(L * att);
      fch_gelu_.allocate(L * 4 * btc);
    } else {
      att_.allocate(att);            // one layer, recomputed in backward
      fch_gelu_.allocate(4 * btc);   // one layer
    }
    lnf_.allocate(btc);
    logits_.allocate(sizes_.logits);
    stats_.allocate((2 * L + 2) * 2 * bt);
    losses_.allocate(bt);
    dresidual_.allocate(btc);
    dbuf_.allocate(btc);
    dqkv_.allocate(3 * btc);
    dfch_.allocate(4 * btc);
    datt_.allocate(att);
    attn_scratch_.allocate(sizes_.attn_scratch);
    scratch_.allocate(sizes_.scratch_f32);
    inp_.allocate(bt);
    targets_.allocate(bt);
    h_inp_.resize(bt);
    h_losses_.resize(bt);
    for (const ParamTensor& t : layout_.tensors()) {
      if (!ranges_.empty() && ranges_.back().decay == t.is_matrix &&
          ranges_.back().offset + ranges_.back().count == t.offset)
        ranges_.back().count += t.size;
      else
        ranges_.push_back({t.offset, t.size, t.is_matrix});
    }
  }

  const GptConfig& config() const override { return config_; }
  const ParamLayout& layout() const override { return layout_; }

  void upload_params(const float* host) override {
    params_.upload(host, params_.size(), ctx_.stream());
    refresh_copy();
  }
  void download_params(float* host) const override { params_.download(host, params_.size(), ctx_.stream()); }
  void download_grads(float* host) const override { grads_.download(host, grads_.size(), ctx_.stream()); }

  float forward(const std::int32_t* inp, const std::int32_t* targets, int B, int T) override {
    forward_body(inp, B, T);
    if (targets == nullptr) return -1.0f;
    return classify(targets, B * T, 1.0f, /*write_grad=*/false);
  }

  float forward_train(const std::int32_t* inp, const std::int32_t* targets, int B, int T,
                      float grad_scale) override {
    WEFT_CHECK(targets != nullptr);
    forward_body(inp, B, T);
    index_.build(h_inp_.data(), B * T, ctx_.stream());
    const float loss = classify(targets, B * T, grad_scale, /*write_grad=*/true);
    backward_ready_ = true;
    return loss;
  }

  void backward() override;

  void zero_grad() override { grads_.zero(ctx_.stream()); }

  void download_logits(float* host) const override {
    const std::size_t n = static_cast<std::size_t>(last_B_) * last_T_ * config_.padded_vocab;
    if constexpr (std::is_same_v<A, float>) {
      logits_.download(host, n, ctx_.stream());
    } else {
      DeviceBuffer<float> tmp(n);
      cuda::convert_to_f32<A>(tmp.data(), logits_.data(), n, ctx_.stream());
      tmp.download(host, n, ctx_.stream());
    }
  }

  double grad_sum_squares() override {
    return cuda::grad_sum_squares(grads_.data(), grads_.size(), scratch_.data(), ctx_.stream());
  }

  void adamw_step(const cpu::AdamWConfig& config, float grad_scale) override {
    ++t_;
    A* copy = nullptr;
    if constexpr (!std::is_same_v<A, float>) copy = params_t_.data();
    cuda::adamw_update<A>(params_.data(), m_.data(), v_.data(), grads_.data(), copy, ranges_,
                          config, t_, grad_scale, ctx_.stream());
  }

  void synchronize() override { ctx_.synchronize(); }

  std::size_t device_bytes() const override {
    return sizes_.act_elems() * sizeof(A) + sizes_.f32_elems() * sizeof(float) +
           (std::is_same_v<A, float> ? 0 : sizes_.params * sizeof(A)) + ctx_.workspace_bytes();
  }

  std::string memory_report() const override {
    const double gib = 1024.0 * 1024.0 * 1024.0;
    return str("device memory: params+grads+AdamW ",
               4.0 * sizes_.params * sizeof(float) / gib, " GiB, activations+scratch ",
               sizes_.act_elems() * sizeof(A) / gib, " GiB, total ", device_bytes() / gib,
               " GiB", recompute_ ? " (recompute on)" : "");
  }

 private:
  const A* wcopy() const {
    if constexpr (std::is_same_v<A, float>)
      return params_.data();
    else
      return params_t_.data();
  }
  void refresh_copy() {
    if constexpr (!std::is_same_v<A, float>)
      cuda::convert_from_f32<A>(params_t_.data(), params_.data(), params_.size(), ctx_.stream());
  }
  float* stat(int which, int l) {  // which: 0 ln1_mean 1 ln1_rstd 2 ln2_mean 3 ln2_rstd
    const std::size_t bt = sizes_.bt;
    if (l < 0) return stats_.data() + (4 * config_.n_layer + which) * bt;  // lnf: which 0/1
    return stats_.data() + (4 * static_cast<std::size_t>(l) + which) * bt;
  }
  A* att_of(int l) { return recompute_ ? att_.data() : att_.data() + l * sizes_.att; }
  A* gelu_of(int l) { return recompute_ ? fch_gelu_.data() : fch_gelu_.data() + l * 4 * sizes_.btc; }

  void check_tokens(const std::int32_t* ids, std::size_t n, const char* what) const {
    for (std::size_t i = 0; i < n; ++i)
      if (ids[i] < 0 || ids[i] >= config_.vocab)
        throw input_error(str(what, " ", ids[i], " at position ", i, " is outside the vocabulary [0, ",
                              config_.vocab, ")"));
  }

  void forward_body(const std::int32_t* inp, int B, int T);
  float classify(const std::int32_t* targets, int N, float grad_scale, bool write_grad);

  GptConfig config_;
  ParamLayout layout_;
  cuda::CudaContext ctx_;
  Sizes sizes_;
  int Bmax_, Tmax_;
  bool recompute_;
  DeviceBuffer<float> params_, grads_, m_, v_;  // (P) each, fp32
  DeviceBuffer<A> params_t_;                    // (P) bf16 copy (empty in fp32 mode)
  // Activations (L-stacked where noted), type A (float or bf16).
  DeviceBuffer<A> encoded_;    // (B,T,C)
  DeviceBuffer<A> ln1_;        // (L,B,T,C)
  DeviceBuffer<A> qkv_;        // (L,B,T,3C)
  DeviceBuffer<A> atty_;       // (L,B,T,C)
  DeviceBuffer<A> att_;        // (L,B,NH,T,T), or one layer with recompute
  DeviceBuffer<A> residual2_;  // (L,B,T,C)
  DeviceBuffer<A> ln2_;        // (L,B,T,C)
  DeviceBuffer<A> fch_;        // (L,B,T,4C)
  DeviceBuffer<A> fch_gelu_;   // (L,B,T,4C), or one layer with recompute
  DeviceBuffer<A> residual3_;  // (L,B,T,C)
  DeviceBuffer<A> lnf_;        // (B,T,C)
  DeviceBuffer<A> logits_;     // (B,T,Vp); dlogits after forward_train
  DeviceBuffer<float> stats_;  // (4L+4, B,T) LayerNorm mean/rstd per layer, then lnf
  DeviceBuffer<float> losses_; // (B,T)
  // Backward scratch.
  DeviceBuffer<A> dresidual_, dbuf_;  // (B,T,C)
  DeviceBuffer<A> dqkv_;              // (B,T,3C)
  DeviceBuffer<A> dfch_;              // (B,T,4C)
  DeviceBuffer<A> datt_;              // (B,NH,T,T)
  DeviceBuffer<A> attn_scratch_;      // (4·B·T·C)
  DeviceBuffer<float> scratch_;       // partial sums (LayerNorm/bias grads, norm)
  DeviceBuffer<std::int32_t> inp_, targets_;  // (B,T)
  std::vector<std::int32_t> h_inp_;
  std::vector<float> h_losses_;
  cuda::EmbeddingIndex index_;
  std::vector<cpu::AdamWRange> ranges_;
  std::int64_t t_ = 0;
  int last_B_ = 0, last_T_ = 0;
  bool backward_ready_ = false;
};

template <typename A>
void GptModelCudaImpl<A>::forward_body(const std::int32_t* inp, int B, int T) {
  if (B < 1 || T < 1 || T > Tmax_ || static_cast<long>(B) * T > static_cast<long>(Bmax_) * Tmax_)
    throw config_error(str("batch ", B, "×", T, " exceeds the GPU model's capacity ", Bmax_, "×", Tmax_));
  const int C = config_.n_embd, NH = config_.n_head, L = config_.n_layer;
  const int Vp = config_.padded_vocab, N = B * T;
  const std::size_t NC = static_cast<std::size_t>(N) * C;
  const std::size_t sbtc = sizes_.btc;
  check_tokens(inp, static_cast<std::size_t>(N), "token");
  std::memcpy(h_inp_.data(), inp, static_cast<std::size_t>(N) * sizeof(std::int32_t));
  inp_.upload(inp, static_cast<std::size_t>(N), ctx_.stream());
  last_B_ = B;
  last_T_ = T;
  backward_ready_ = false;
  cudaStream_t st = ctx_.stream();
  const ParamViews<const A> p = ParamViews<const A>::make(layout_, wcopy());

  cuda::embedding_forward<A>(encoded_.data(), inp_.data(), p.wte, p.wpe, B, T, C, st);
  for (int l = 0; l < L; ++l) {
    const A* residual = l == 0 ? encoded_.data() : residual3_.data() + (l - 1) * sbtc;
    A* ln1 = ln1_.data() + l * sbtc;
    A* qkv = qkv_.data() + l * 3 * sbtc;
    A* atty = atty_.data() + l * sbtc;
    A* residual2 = residual2_.data() + l * sbtc;
    A* ln2 = ln2_.data() + l * sbtc;
    A* fch = fch_.data() + l * 4 * sbtc;
    A* fch_gelu = gelu_of(l);
    A* residual3 = residual3_.data() + l * sbtc;
    const std::size_t lc = static_cast<std::size_t>(l) * C;
    cuda::layernorm_forward<A>(ln1, stat(0, l), stat(1, l), residual, p.ln1w + lc, p.ln1b + lc, N, C, st);
    cuda::matmul_forward<A>(ctx_, qkv, ln1, p.qkvw + lc * 3 * C, p.qkvb + 3 * lc, N, C, 3 * C);
    cuda::attention_forward<A>(ctx_, atty, att_of(l), attn_scratch_.data(), qkv, B, T, C, NH);
    cuda::matmul_forward<A>(ctx_, residual2, atty, p.attprojw + lc * C, p.attprojb + lc, N, C, C);
    cuda::add_inplace<A>(residual2, residual, NC, st);
    cuda::layernorm_forward<A>(ln2, stat(2, l), stat(3, l), residual2, p.ln2w + lc, p.ln2b + lc, N, C, st);
    cuda::matmul_forward<A>(ctx_, fch, ln2, p.fcw + lc * 4 * C, p.fcb + 4 * lc, N, C, 4 * C);
    cuda::gelu_forward<A>(fch_gelu, fch, 4 * NC, st);
    cuda::matmul_forward<A>(ctx_, residual3, fch_gelu, p.fcprojw + lc * 4 * C, p.fcprojb + lc, N, 4 * C, C);
    cuda::add_inplace<A>(residual3, residual2, NC, st);
  }
  const A* last = residual3_.data() + (L - 1) * sbtc;
  cuda::layernorm_forward<A>(lnf_.data(), stat(0, -1), stat(1, -1), last, p.lnfw, p.lnfb, N, C, st);
  cuda::matmul_forward<A>(ctx_, logits_.data(), lnf_.data(), p.wte, nullptr, N, C, Vp);
}

template <typename A>
float GptModelCudaImpl<A>::classify(const std::int32_t* targets, int N, float grad_scale,
                                    bool write_grad) {
  check_tokens(targets, static_cast<std::size_t>(N), "target");
  targets_.upload(targets, static_cast<std::size_t>(N), ctx_.stream());
  // Unweighted mean: dscale = grad_scale / N.
  cuda::classifier_forward<A>(logits_.data(), losses_.data(), targets_.data(), nullptr, N,
                              config_.vocab, config_.padded_vocab, grad_scale / static_cast<float>(N),
                              write_grad, ctx_.stream());
  losses_.download(h_losses_.data(), static_cast<std::size_t>(N), ctx_.stream());
  double sum = 0.0;  // in order, in double: deterministic
  for (int i = 0; i < N; ++i) sum += h_losses_[static_cast<std::size_t>(i)];
  return static_cast<float>(sum / N);
}

template <typename A>
void GptModelCudaImpl<A>::backward() {
  WEFT_CHECK(backward_ready_, "backward() needs a forward_train() first");
  backward_ready_ = false;
  const int B = last_B_, T = last_T_;
  const int C = config_.n_embd, NH = config_.n_head, L = config_.n_layer;
  const int Vp = config_.padded_vocab, N = B * T;
  const std::size_t NC = static_cast<std::size_t>(N) * C;
  const std::size_t sbtc = sizes_.btc;
  cudaStream_t st = ctx_.stream();
  const ParamViews<const A> p = ParamViews<const A>::make(layout_, wcopy());
  const ParamViews<float> g = ParamViews<float>::make(layout_, grads_.data());
  float* scratch = scratch_.data();

  const A* last = residual3_.data() + (L - 1) * sbtc;
  cuda::matmul_backward<A>(ctx_, dbuf_.data(), g.wte, nullptr, scratch, logits_.data(), lnf_.data(),
                           p.wte, N, C, Vp);
  cuda::layernorm_backward<A>(dresidual_.data(), g.lnfw, g.lnfb, scratch, dbuf_.data(), last, p.lnfw,
                              stat(0, -1), stat(1, -1), N, C, /*accumulate=*/false, st);

  for (int l = L - 1; l >= 0; --l) {
    const A* residual = l == 0 ? encoded_.data() : residual3_.data() + (l - 1) * sbtc;
    const A* ln1 = ln1_.data() + l * sbtc;
    const A* qkv = qkv_.data() + l * 3 * sbtc;
    const A* atty = atty_.data() + l * sbtc;
    const A* residual2 = residual2_.data() + l * sbtc;
    const A* ln2 = ln2_.data() + l * sbtc;
    const A* fch = fch_.data() + l * 4 * sbtc;
    A* fch_gelu = gelu_of(l);
    A* att = att_of(l);
    const std::size_t lc = static_cast<std::size_t>(l) * C;
    if (recompute_) {
      cuda::gelu_forward<A>(fch_gelu, fch, 4 * NC, st);
      // Recomputes att (its output goes to dbuf, overwritten just below).
      cuda::attention_forward<A>(ctx_, dbuf_.data(), att, attn_scratch_.data(), qkv, B, T, C, NH);
    }
    cuda::matmul_backward<A>(ctx_, dfch_.data(), g.fcprojw + lc * 4 * C, g.fcprojb + lc, scratch,
                             dresidual_.data(), fch_gelu, p.fcprojw + lc * 4 * C, N, 4 * C, C);
    cuda::gelu_backward<A>(dfch_.data(), dfch_.data(), fch, 4 * NC, st);
    cuda::matmul_backward<A>(ctx_, dbuf_.data(), g.fcw + lc * 4 * C, g.fcb + 4 * lc, scratch,
                             dfch_.data(), ln2, p.fcw + lc * 4 * C, N, C, 4 * C);
    cuda::layernorm_backward<A>(dresidual_.data(), g.ln2w + lc, g.ln2b + lc, scratch, dbuf_.data(),
                                residual2, p.ln2w + lc, stat(2, l), stat(3, l), N, C, true, st);
    cuda::matmul_backward<A>(ctx_, dbuf_.data(), g.attprojw + lc * C, g.attprojb + lc, scratch,
                             dresidual_.data(), atty, p.attprojw + lc * C, N, C, C);
    cuda::attention_backward<A>(ctx_, dqkv_.data(), datt_.data(), attn_scratch_.data(), dbuf_.data(),
                                att, qkv, B, T, C, NH);
    cuda::matmul_backward<A>(ctx_, dbuf_.data(), g.qkvw + lc * 3 * C, g.qkvb + 3 * lc, scratch,
                             dqkv_.data(), ln1, p.qkvw + lc * 3 * C, N, C, 3 * C);
    cuda::layernorm_backward<A>(dresidual_.data(), g.ln1w + lc, g.ln1b + lc, scratch, dbuf_.data(),
                                residual, p.ln1w + lc, stat(0, l), stat(1, l), N, C, true, st);
  }
  cuda::embedding_backward<A>(g.wte, g.wpe, dresidual_.data(), index_, B, T, C, st);
}

}  // namespace

std::unique_ptr<GptModelCuda> make_gpt_model_cuda(const GptConfig& config, int B, int T,
                                                  const GpuModelOptions& options) {
  if (options.bf16) return std::make_unique<GptModelCudaImpl<cuda::bf16>>(config, B, T, options);
  return std::make_unique<GptModelCudaImpl<float>>(config, B, T, options);
}

std::size_t gpt_model_cuda_bytes(const GptConfig& config, int B, int T,
                                 const GpuModelOptions& options) {
  const Sizes s(config, B, T, options.recompute);
  const std::size_t elem = options.bf16 ? 2 : 4;
  return s.act_elems() * elem + s.f32_elems() * 4 + (options.bf16 ? s.params * 2 : 0) + (32u << 20);
}

}  // namespace weft::model
