// Fused classifier on the GPU (as cpu::classifier_forward_backward): per row softmax over
// the real vocab V of padded logits (N,Vp), the row's cross-entropy loss, and optionally
// the gradient written in place over the logits. One block per row; fp32 math.
// One host thread per stream.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace weft::cuda {

// losses (N) fp32 written: unweighted row loss (0 where weights[i] == 0); logits (N,Vp);
// targets (N) device ids, in [0,V) where the weight is non-zero (checked by the caller);
// weights (N) device or nullptr (all 1). With write_grad, logits become
//   dlogits[i,j] = dscale · w_i · (softmax_j − [j == target_i]) for j < V, 0 for j >= V,
// where the caller passes dscale = grad_scale / Σw.
template <typename T>
void classifier_forward(T* logits, float* losses, const int32_t* targets, const float* weights,
                        int N, int V, int Vp, float dscale, bool write_grad, cudaStream_t stream);

}  // namespace weft::cuda
