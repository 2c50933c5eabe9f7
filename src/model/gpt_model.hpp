// GPT-2 forward and backward over the CPU kernels (llm.c's gpt2_forward/backward):
// owns the flat parameter buffer, its gradient mirror and the activation arena.
// Tied LM head: wte computes the logits and receives their gradient. The model
// does no communication; it calls ModelHooks at the points a distributed run needs.
// Not thread-safe: one thread drives it (kernels use OpenMP inside).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/aligned_buffer.hpp"
#include "kernels/cpu/matmul_bf16.hpp"
#include "model/activations.hpp"
#include "model/gpt_config.hpp"
#include "model/model_hooks.hpp"
#include "model/param_layout.hpp"

namespace weft::model {

class GptModel {
 public:
  // Allocates parameters (zeroed; call init_weights or load into params()), the
  // gradient mirror when `training`, and activations for batches up to B×T.
  GptModel(const GptConfig& config, int B, int T, bool training = true);

  const GptConfig& config() const { return config_; }
  const ParamLayout& layout() const { return layout_; }
  std::size_t num_params() const { return layout_.total(); }
  int max_batch() const { return acts_.B; }
  int max_seq() const { return acts_.T; }

  float* params() { return params_.data(); }              // (num_params)
  const float* params() const { return params_.data(); }
  float* grads() { return grads_.data(); }                // (num_params), nullptr if !training
  const float* grads() const { return grads_.data(); }
  ParamViews<float> param_views() { return ParamViews<float>::make(layout_, params_.data()); }
  ParamViews<float> grad_views() { return ParamViews<float>::make(layout_, grads_.data()); }
  const ActivationArena& activations() const { return acts_; }

  // GPT-2 / llm.c init: weights ~ N(0, 0.02), the two residual projections
  // (attprojw, fcprojw) ~ N(0, 0.02/sqrt(2L)), biases 0, LayerNorm weights 1,
  // padded wte rows 0. Deterministic in `seed`.
  void init_weights(std::uint64_t seed);

  void set_hooks(ModelHooks* hooks) { hooks_ = hooks ? hooks : &no_hooks_; }

  // Precision of the matmul operands (docs/precision.md). bf16: each forward rounds
  // the fp32 master weights into a bf16 copy once, matmuls take bf16 operands with fp32
  // accumulation; everything else stays fp32. On a CPU without native bf16 this logs
  // one notice and keeps fp32. Returns the precision in effect.
  cpu::Precision set_precision(cpu::Precision precision);
  cpu::Precision precision() const { return precision_; }

  // Forward for B×T tokens (B, T within capacity). inp (B,T) token ids; targets
  // (B,T) or nullptr; weights (B,T) 0/1 loss weights or nullptr (= all 1).
  // Logits (B,T,Vp) stay readable in logits(). Returns the weighted mean loss, or
  // -1 when targets is nullptr.
  float forward(const std::int32_t* inp, const std::int32_t* targets, const float* weights,
                int B, int T);
  // Forward for training: as forward() with targets required, but the fused
  // classifier replaces the logits by the gradient of grad_scale·loss, ready for
  // backward(). grad_scale: 1/grad_accum (or Σw_micro/Σw_total) for accumulation.
  float forward_train(const std::int32_t* inp, const std::int32_t* targets,
                      const float* weights, int B, int T, float grad_scale);
  // Accumulates (+=) into grads() the gradient of the last forward_train.
  void backward();
  void zero_grad();

  const float* logits() const { return acts_.logits; }  // (B,T,Vp) of the last forward

  // --- Extension points for stages with their own loss (SFT packing, reward model,
  // PPO, DPO). Defined in gpt_model_heads.cpp.
  // Forward without the LM head: only final_hidden() is computed (scalar heads).
  void forward_hidden(const std::int32_t* inp, int B, int T);
  // Final LayerNorm output (B,T,C) of the last forward*: the input of the LM head.
  const float* final_hidden() const { return acts_.lnf; }
  // Accumulates (+=) into grads() the gradient of a caller's loss of the last
  // forward() (targets may be nullptr) or forward_hidden(), given as
  //   dlogits (B,T,Vp) = dloss/dlogits() (columns >= V ignored; may point at
  //                      logits() itself, which is overwritten in any case), and/or
  //   dhidden (B,T,C)  = dloss/dfinal_hidden() (a head on the final hidden state).
  // Either may be nullptr, not both; dlogits needs forward(), not forward_hidden().
  // Needs a training model; one backward per forward.
  void backward_from(const float* dlogits, const float* dhidden);
  void backward_from_logits(const float* dlogits) { backward_from(dlogits, nullptr); }
  void backward_from_hidden(const float* dhidden) { backward_from(nullptr, dhidden); }

  // Packed rows (SFT): doc_start (B,T) holds, for each token, the position in its row
  // where its document (conversation) starts. Attention then stays inside each
  // document and positions restart at 0 there (token t uses wpe[t − doc_start]), so a
  // packed row computes exactly what its documents would compute alone. Copied and
  // validated (weft::Error naming the position); applies to every following forward
  // (which must then be B×T) until clear_doc_starts().
  void set_doc_starts(const std::int32_t* doc_start, int B, int T);
  void clear_doc_starts() { packed_B_ = packed_T_ = 0; }
  bool packed() const { return packed_B_ > 0; }
  // Σ of the loss weights seen by the last forward (the token count when unweighted).
  double last_weight_sum() const { return last_weight_sum_; }

  // FLOPs of one training step (forward + backward) on B×T tokens: 6·N·tokens for
  // the matmuls (N excluding wpe) + 6·L·B·T²·C for attention (causal: half of 12).
  static double train_flops(const GptConfig& config, int B, int T);

 private:
  void forward_body(const std::int32_t* inp, int B, int T, bool with_logits = true);
  // Backward through the whole model; d(lnf) = dlogits·wte (if dlogits) + dhidden (if
  // dhidden). dlogits (B,T,Vp) has zero padded columns.
  void backward_impl(const float* dlogits, const float* dhidden);
  void check_shape(int B, int T) const;
  // The matmuls in the precision in effect; `weight` points into params().
  void linear_forward(float* out, const float* inp, const float* weight, const float* bias, int N,
                      int C, int OC);
  void linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                       const float* inp, const float* weight, int N, int C, int OC);

  GptConfig config_;
  ParamLayout layout_;
  AlignedBuffer<float> params_;
  AlignedBuffer<float> grads_;
  ActivationArena acts_;
  NoHooks no_hooks_;
  ModelHooks* hooks_ = &no_hooks_;
  // State of the last forward, for backward.
  AlignedBuffer<std::int32_t> last_inp_;  // (B, T) copy of the last forward's tokens
  int last_B_ = 0, last_T_ = 0;
  bool backward_ready_ = false;  // forward_train's dlogits are in logits()
  bool acts_saved_ = false;      // a training model's forward saved what backward needs
  bool logits_valid_ = false;    // the last forward computed logits()
  double last_weight_sum_ = 0.0;
  // Packing (set_doc_starts); packed_B_ == 0: off.
  AlignedBuffer<std::int32_t> doc_start_;  // (B, T)
  AlignedBuffer<std::int32_t> pos_;        // (B, T) t − doc_start
  int packed_B_ = 0, packed_T_ = 0;
  // bf16 mode only.
  cpu::Precision precision_ = cpu::Precision::kFp32;
  std::unique_ptr<cpu::Bf16Matmul> bf16_matmul_;
  AlignedBuffer<cpu::bf16> params_bf16_;  // (num_params) bf16 copy, refreshed each forward
};

}  // namespace weft::model
