// GPT-2 forward and backward over the CPU kernels (llm.c's gpt2_forward/backward):
// owns the flat parameter buffer, its gradient mirror and the activation arena.
// Tied LM head: wte computes the logits and receives their gradient. The model
// does no communication; it calls ModelHooks at the points a distributed run needs.
// Not thread-safe: one thread drives it (kernels use OpenMP inside).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/aligned_buffer.hpp"
#include "kernels/cpu/classifier.hpp"
#include "kernels/cpu/matmul_bf16.hpp"
#include "model/activations.hpp"
#include "model/gpt_config.hpp"
#include "model/model_hooks.hpp"
#include "model/param_layout.hpp"

namespace weft::model {

// This model's place in a tensor-parallel group (Megatron-style; docs/parallel.md).
// size 1 is the whole model; size > 1 holds the shard of every split tensor
// (ParamLayout's TpSplit table) and the model calls the tp hooks to combine.
struct TpShard {
  int rank = 0;
  int size = 1;
};

// The layers one pipeline stage runs (docs/parallel.md "Pipeline parallel"): blocks
// [layer_begin, layer_end) of the full model; the first stage (layer_begin == 0)
// also runs the embedding, the last (layer_end == L) the final LayerNorm, LM head
// and loss. The default (layer_end < 0) is the whole model: one stage.
struct StageSpec {
  int layer_begin = 0;
  int layer_end = -1;
};

class GptModel {
 public:
  // Allocates parameters (zeroed; call init_weights or load into params()), the
  // gradient mirror when `training`, and activations for batches up to B×T.
  // tp: this rank's tensor-parallel shard (tp.size must divide n_head and Vp).
  // With a StageSpec the model holds only that pipeline stage: config() then has the
  // stage's n_layer and the flat buffer the stage's blocks (plus wte/wpe/lnf, used
  // only on the first/last stage); fill it with stage_params_from_full
  // (model/stage_params.hpp).
  GptModel(const GptConfig& config, int B, int T, bool training = true, TpShard tp = {},
           StageSpec stage = {});

  const GptConfig& config() const { return config_; }  // the stage's (n_layer = its blocks)
  const StageSpec& stage() const { return stage_; }     // in the full model's layer numbers
  bool first_stage() const { return stage_.layer_begin == 0; }
  bool last_stage() const { return last_stage_; }
  const ParamLayout& layout() const { return layout_; }
  const TpShard& tp() const { return tp_; }
  std::size_t num_params() const { return layout_.total(); }
  int max_batch() const { return cur_->acts.B; }
  int max_seq() const { return cur_->acts.T; }

  // (num_params). The mutable forms mark the bf16 weight copy stale (bf16 mode).
  float* params() {
    bf16_stale_ = true;
    return params_.data();
  }
  const float* params() const { return params_.data(); }
  float* grads() { return grads_.data(); }                // (num_params), nullptr if !training
  const float* grads() const { return grads_.data(); }
  ParamViews<float> param_views() { return ParamViews<float>::make(layout_, params()); }
  ParamViews<float> grad_views() { return ParamViews<float>::make(layout_, grads_.data()); }
  const ActivationArena& activations() const { return cur_->acts; }

  // Activation slots (pipeline micro-batches in flight): n arenas for this stage's
  // layers; slot 0 keeps the backward scratch, which the others share (one backward
  // runs at a time). use_slot(s) picks the arena the next forward/backward uses.
  void set_activation_slots(int n);
  int activation_slots() const { return static_cast<int>(slots_.size()); }
  void use_slot(int s);
  // Floats of all activation arenas (the stage's peak activation memory).
  std::size_t activation_floats() const;

  // GPT-2 / llm.c init: weights ~ N(0, 0.02), the two residual projections
  // (attprojw, fcprojw) ~ N(0, 0.02/sqrt(2L)), biases 0, LayerNorm weights 1,
  // padded wte rows 0. Deterministic in `seed`. tp = 1 only: a sharded model is
  // initialised whole and sliced (parallel/tp_shard.hpp), so it starts from the
  // same weights as one rank.
  void init_weights(std::uint64_t seed);
  // The same init into a full (tp = 1) buffer laid out by ParamLayout(config).
  static void init_weights_full(const GptConfig& config, std::uint64_t seed, float* params);

  void set_hooks(ModelHooks* hooks) { hooks_ = hooks ? hooks : &no_hooks_; }

  // Precision of the matmul operands (docs/precision.md). bf16: each forward rounds
  // the fp32 master weights into a bf16 copy once, matmuls take bf16 operands with fp32
  // accumulation; everything else stays fp32. On a CPU without native bf16 this logs
  // one notice and keeps fp32. Returns the precision in effect.
  // `what` names the job in the notice ("training", "evaluating").
  cpu::Precision set_precision(cpu::Precision precision, const char* what = "training");
  cpu::Precision precision() const { return precision_; }
  // bf16 mode: the bf16 weight copy (num_params), for an optimizer that writes
  // f32_to_bf16 of every new param into it in the same pass as params() (then the next
  // forward skips its conversion). Call after params(); nullptr in fp32 mode.
  cpu::bf16* params_bf16_for_update();
  // Seconds spent inside bf16 matmuls since the precision was set (0 in fp32 mode).
  double bf16_matmul_seconds() const;

  // Forward for B×T tokens (B, T within capacity). inp (B,T) token ids; targets
  // (B,T) or nullptr; weights (B,T) 0/1 loss weights or nullptr (= all 1).
  // Logits (B,T,Vp/tp: this rank's vocabulary columns) stay readable in logits(). Returns the weighted mean loss, or
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

  // Pipeline stage forms. The first stage reads tokens `inp` (B,T), the others the
  // incoming residual (B,T,C). Non-last stages leave their output residual in
  // stage_output() (valid until this slot's backward) and return 0; the last stage
  // computes the loss as forward_train (targets required) and returns it.
  float forward_train_stage(const std::int32_t* inp, const float* residual_in,
                            const std::int32_t* targets, const float* weights, int B, int T,
                            float grad_scale);
  const float* stage_output() const;  // (B,T,C) non-last stages
  // Backward of this slot; dresidual_out (B,T,C) = d(stage output) on non-last stages
  // (nullptr on the last). Non-first stages leave d(input residual) in
  // stage_input_grad(), valid until the next backward.
  void backward_stage(const float* dresidual_out);
  const float* stage_input_grad() const;  // (B,T,C) non-first stages
  void zero_grad();

  const float* logits() const { return cur_->acts.logits; }  // (B,T,Vp) of the last forward
  // Token ids (B·T) of the current slot's last forward (first stage; empty on the
  // others). The embedding backward adds only into these rows of wte's gradient.
  std::span<const std::int32_t> slot_tokens() const;

  // --- Extension points for stages with their own loss (SFT packing, reward model,
  // PPO, DPO). Defined in gpt_model_heads.cpp.
  // Whole model only (first and last stage), on the current activation slot.
  // Forward without the LM head: only final_hidden() is computed (scalar heads).
  void forward_hidden(const std::int32_t* inp, int B, int T);
  // Final LayerNorm output (B,T,C) of the last forward*: the input of the LM head.
  const float* final_hidden() const { return cur_->acts.lnf; }
  // Accumulates (+=) into grads() the gradient of a caller's loss of the last
  // forward() (targets may be nullptr) or forward_hidden(), given as
  //   dlogits (B,T,Vp) = dloss/dlogits() (under tp: (B,T,Vp/tp) of this rank's
  //                      columns, as logits()) (columns >= V ignored; may point at
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
  // (which must then be B×T) until clear_doc_starts(). Under a pipeline every stage
  // masks its attention and the first stage's embedding applies the positions.
  void set_doc_starts(const std::int32_t* doc_start, int B, int T);
  void clear_doc_starts() { packed_B_ = packed_T_ = 0; }
  bool packed() const { return packed_B_ > 0; }
  // Σ of the loss weights seen by the last forward (the token count when unweighted).
  double last_weight_sum() const { return last_weight_sum_; }

  // FLOPs of one training step (forward + backward) on B×T tokens: 6·N·tokens for
  // the matmuls (N excluding wpe) + 6·L·B·T²·C for attention (causal: half of 12).
  static double train_flops(const GptConfig& config, int B, int T);

 private:
  void forward_body(const std::int32_t* inp, const float* residual_in, int B, int T,
                    bool with_logits = true);
  // Backward of the current slot. Last stage: d(lnf) = dlogits·wte (if dlogits) +
  // dhidden (if dhidden); dlogits (B,T,Vp) has zero padded columns. Other stages:
  // dresidual_out (B,T,C) = d(stage output), dlogits and dhidden nullptr.
  void backward_impl(const float* dlogits, const float* dhidden, const float* dresidual_out);
  void check_shape(int B, int T) const;
  // Vocab-parallel cross-entropy over the logits (phases of kernels/cpu/classifier.hpp
  // with the tp reductions between them); with_grad leaves dlogits in the logits.
  cpu::ClassifierLoss classifier(const std::int32_t* targets, const float* weights, int N,
                                 bool with_grad, float grad_scale);
  // The matmuls in the precision in effect; `weight` points into params().
  void linear_forward(float* out, const float* inp, const float* weight, const float* bias, int N,
                      int C, int OC);
  void linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                       const float* inp, const float* weight, int N, int C, int OC);

  // One activation arena with the state of its last forward, for backward.
  struct Slot {
    ActivationArena acts;
    AlignedBuffer<std::int32_t> inp;  // (B, T) copy of the forward's tokens (first stage)
    int B = 0, T = 0;
    bool backward_ready = false;  // forward_train's dlogits are in acts.logits
    bool acts_saved = false;      // a training model's forward saved what backward needs
    bool logits_valid = false;    // the forward computed acts.logits
  };

  GptConfig config_;
  TpShard tp_;
  StageSpec stage_;
  bool last_stage_ = true;
  ParamLayout layout_;
  AlignedBuffer<float> params_;
  AlignedBuffer<float> grads_;
  std::vector<std::unique_ptr<Slot>> slots_;  // >= 1
  Slot* cur_ = nullptr;
  NoHooks no_hooks_;
  ModelHooks* hooks_ = &no_hooks_;
  double last_weight_sum_ = 0.0;
  // Packing (set_doc_starts); packed_B_ == 0: off.
  AlignedBuffer<std::int32_t> doc_start_;  // (B, T)
  AlignedBuffer<std::int32_t> pos_;        // (B, T) t − doc_start
  int packed_B_ = 0, packed_T_ = 0;
  AlignedBuffer<double> ce_stats_;  // (3, B·T): row max | Σexp | target logit
  // bf16 mode only.
  cpu::Precision precision_ = cpu::Precision::kFp32;
  std::unique_ptr<cpu::Bf16Matmul> bf16_matmul_;
  AlignedBuffer<cpu::bf16> params_bf16_;  // (num_params) bf16 copy of params_
  bool bf16_stale_ = true;  // params_ may have changed since params_bf16_ was made
};

}  // namespace weft::model
