// Token + position embedding on the GPU (as cpu::embedding_forward/backward). The
// backward is deterministic without atomics: the host sorts the batch's positions by
// token once (EmbeddingIndex), then one block per distinct token sums its positions in
// order. Owned by the caller; one host thread per stream.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "kernels/cuda/device_buffer.hpp"

namespace weft::cuda {

// out (B,T,C) written; inp (B,T) device token ids (validated on the host beforehand);
// wte (Vp,C), wpe (maxT,C) in the activation type T.
template <typename T>
void embedding_forward(T* out, const int32_t* inp, const T* wte, const T* wpe, int B, int Tn,
                       int C, cudaStream_t stream);

// Positions of a batch grouped by token: built on the host from the (B,T) ids.
class EmbeddingIndex {
 public:
  // inp (B*T) host ids; uploads order/starts/tokens on `stream` (synchronously).
  void build(const int32_t* inp, int BT, cudaStream_t stream);
  int segments() const { return segments_; }
  const int32_t* order() const { return order_.data(); }    // (B*T) positions sorted by token
  const int32_t* starts() const { return starts_.data(); }  // (segments+1) offsets into order
  const int32_t* tokens() const { return tokens_.data(); }  // (segments) token of each segment

 private:
  int segments_ = 0;
  std::vector<int32_t> h_order_, h_starts_, h_tokens_;
  DeviceBuffer<int32_t> order_, starts_, tokens_;
};

// dwte (Vp,C) +=, dwpe (maxT,C) += (fp32 parameter gradients); dout (B,T,C).
template <typename T>
void embedding_backward(float* dwte, float* dwpe, const T* dout, const EmbeddingIndex& index,
                        int B, int Tn, int C, cudaStream_t stream);

}  // namespace weft::cuda
