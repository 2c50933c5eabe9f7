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

}  // namespace weft::cpu
