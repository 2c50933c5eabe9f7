// The points where a distributed run must act inside the model (DESIGN.md
// "How the model stays free of communication"). The model calls these; parallel/
// implements them with communicators and train/ wires the two together. The base
// class does nothing, which is exactly the single-rank behaviour. Called on the
// thread that runs forward/backward.
#pragma once

#include <cstddef>

namespace weft::model {

// Units of parameters, in forward order: the embeddings (wte, wpe), blocks
// 0..L-1, and the head (lnfw, lnfb; the LM head reuses wte).
inline constexpr int kUnitEmbedding = -1;
inline int unit_head(int n_layer) { return n_layer; }

enum class Pass { kForward, kBackward };

class ModelHooks {
 public:
  virtual ~ModelHooks() = default;
  // The parameters of `unit` are about to be read (ZeRO-3 gathers them here).
  virtual void params_needed(int /*unit*/, Pass /*pass*/) {}
  // The parameters of `unit` are no longer needed in this pass (ZeRO-3 may free).
  virtual void params_done(int /*unit*/, Pass /*pass*/) {}
  // All gradients of `unit` are final for this micro-batch's backward (DP/ZeRO-2
  // may start reducing its bucket). Called after the unit's backward, so the head
  // comes first, the embedding last (wte's gradient is final only then).
  virtual void grads_ready(int /*unit*/) {}
  // Forward: the output of a row-parallel matmul (attention or MLP projection,
  // before its bias) holds partial sums across the tp group and needs summing.
  virtual void sum_row_parallel_output(float* /*out*/, std::size_t /*n*/) {}
  // Backward mirror: the input gradient of a column-parallel matmul (qkv, fc)
  // holds partial sums across the tp group and needs summing.
  virtual void sum_column_parallel_input_grad(float* /*dinp*/, std::size_t /*n*/) {}
  // Vocab-parallel embedding: each tp rank wrote the rows of the tokens it owns
  // (others 0; wpe added on tp rank 0 only): sum across the tp group.
  virtual void sum_vocab_parallel_embedding(float* /*encoded*/, std::size_t /*n*/) {}
  // Vocab-parallel cross-entropy: per-row statistics over this rank's vocabulary
  // columns (row maxima when `max`, else sums) to reduce across the tp group.
  virtual void reduce_vocab_parallel_stats(double* /*stats*/, std::size_t /*n*/, bool /*max*/) {}
};

// The single-rank implementation: every hook does nothing.
class NoHooks final : public ModelHooks {};

}  // namespace weft::model
