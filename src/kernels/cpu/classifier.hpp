// Fused classifier: per-row softmax + cross-entropy over the real vocab V of padded
// logits (N,Vp), with per-token loss weights, and its gradient written IN PLACE into the
// logits buffer (no second copy of the probabilities). Call from one thread (OpenMP
// inside). Deterministic for any thread count (row losses are summed in order, in double).
#pragma once

#include <cstdint>

namespace weft::cpu {

struct ClassifierLoss {
  double loss = 0.0;        // Σ w_i·loss_i / Σ w_i (0 when Σ w_i == 0)
  double weight_sum = 0.0;  // Σ w_i over the N rows
};

// losses (N) written: the unweighted loss of each row (0 where w_i == 0);
// logits (N,Vp), not modified; targets (N); weights (N) or nullptr (= all 1).
// Rows with w_i != 0 need targets in [0, V) (weft::Error kInput otherwise); rows with
// w_i == 0 may hold any target (e.g. -1, like PyTorch's ignore_index).
ClassifierLoss classifier_forward(float* losses, const float* logits, const int32_t* targets,
                                  const float* weights, int N, int V, int Vp);

// As classifier_forward, and overwrites logits with dlogits of
//   grad_scale · (Σ w_i·loss_i / Σ w_i):
//   dlogits[i,j] = grad_scale · w_i / Σw · (softmax_j − [j == target_i])  for j < V,
//   dlogits[i,j] = 0 for V <= j < Vp (padded columns), and all-zero rows where w_i == 0.
// grad_scale lets gradient accumulation divide (1/steps), or renormalise across
// micro-batches (Σw_micro / Σw_total) for an exact weighted mean over the whole batch.
ClassifierLoss classifier_forward_backward(float* logits, float* losses, const int32_t* targets,
                                           const float* weights, int N, int V, int Vp,
                                           float grad_scale);

// ---- Vocab-parallel classifier (Megatron's vocab-parallel cross-entropy) -------
// A rank holds the padded-logit columns [v0, v0 + Vs) of every row. Three phases;
// between them the caller reduces the per-row statistics across the ranks (phase 1's
// row maxima with max, phase 2's sums with sum), so full logits are never gathered.
// With one shard (v0 = 0, Vs = Vp) the phases do exactly classifier_forward(_backward)'s
// arithmetic: results are bitwise equal to theirs.
struct ClassifierShard {
  int v0 = 0;  // first global column held
  int Vs = 0;  // columns held (row stride of the logits)
  int V = 0;   // real vocabulary (global): columns >= V are padding
};

// Phase 1: row_max (N) = max of this shard's real columns of each weighted row
// (-inf when it holds none, or w_i == 0). Checks weights and targets like
// classifier_forward; returns Σ w_i.
double classifier_shard_max(double* row_max, const float* logits, const int32_t* targets,
                            const float* weights, int N, const ClassifierShard& s);
// Phase 2 (row_max reduced): sums (2N): [0, N) Σ_j exp(x_ij − max_i) over the shard's
// real columns, [N, 2N) the target's logit (0 where another shard holds it). With
// store_exp the logits become exp(x − max) (phase 3 turns them into the gradient).
void classifier_shard_sums(double* sums, float* logits, const int32_t* targets,
                           const float* weights, const double* row_max, int N,
                           const ClassifierShard& s, bool store_exp);
// Phase 3 (sums reduced): losses (N) and the weighted mean; with_grad: logits (which
// hold exp(x − max) from phase 2 with store_exp) become dlogits as documented for
// classifier_forward_backward, restricted to this shard's columns.
ClassifierLoss classifier_shard_finish(float* losses, float* logits, const int32_t* targets,
                                       const float* weights, const double* row_max,
                                       const double* sums, int N, const ClassifierShard& s,
                                       double weight_sum, bool with_grad, float grad_scale);

}  // namespace weft::cpu
