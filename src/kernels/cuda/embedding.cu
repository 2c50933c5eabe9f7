// Embedding kernels. See embedding.hpp.
#include <algorithm>

#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/embedding.hpp"

namespace weft::cuda {
namespace {
using detail::from_f32;
using detail::to_f32;

template <typename T>
__global__ void embedding_forward_kernel(T* out, const int32_t* inp, const T* wte, const T* wpe,
                                         int BT, int Tn, int C) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<std::size_t>(BT) * C) return;
  const int bt = static_cast<int>(i / C), c = static_cast<int>(i % C);
  const int t = bt % Tn;
  const int tok = inp[bt];
  out[i] = from_f32<T>(to_f32(wte[static_cast<std::size_t>(tok) * C + c]) +
                       to_f32(wpe[static_cast<std::size_t>(t) * C + c]));
}

// One block per distinct token (blockIdx.y covers channel tiles): sums dout over the
// token's positions in sorted order.
template <typename T>
__global__ void wte_backward_kernel(float* dwte, const T* dout, const int32_t* order,
                                    const int32_t* starts, const int32_t* tokens, int C) {
  const int seg = blockIdx.x;
  const int c = blockIdx.y * blockDim.x + threadIdx.x;
  if (c >= C) return;
  float s = 0.0f;
  for (int k = starts[seg]; k < starts[seg + 1]; ++k)
    s += to_f32(dout[static_cast<std::size_t>(order[k]) * C + c]);
  dwte[static_cast<std::size_t>(tokens[seg]) * C + c] += s;
}

// One thread per (t, c): sums over b in order.
template <typename T>
__global__ void wpe_backward_kernel(float* dwpe, const T* dout, int B, int Tn, int C) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<std::size_t>(Tn) * C) return;
  float s = 0.0f;
  for (int b = 0; b < B; ++b) s += to_f32(dout[static_cast<std::size_t>(b) * Tn * C + i]);
  dwpe[i] += s;
}

}  // namespace

template <typename T>
void embedding_forward(T* out, const int32_t* inp, const T* wte, const T* wpe, int B, int Tn,
                       int C, cudaStream_t stream) {
  const std::size_t n = static_cast<std::size_t>(B) * Tn * C;
  embedding_forward_kernel<<<detail::blocks_for(n, 256), 256, 0, stream>>>(out, inp, wte, wpe,
                                                                          B * Tn, Tn, C);
  WEFT_CUDA_LAUNCH_CHECK();
}

void EmbeddingIndex::build(const int32_t* inp, int BT, cudaStream_t stream) {
  h_order_.resize(static_cast<std::size_t>(BT));
  for (int i = 0; i < BT; ++i) h_order_[static_cast<std::size_t>(i)] = i;
  // Stable: positions of one token stay in increasing order (fixed summation order).
  std::stable_sort(h_order_.begin(), h_order_.end(),
                   [inp](int32_t a, int32_t b) { return inp[a] < inp[b]; });
  h_starts_.clear();
  h_tokens_.clear();
  for (int k = 0; k < BT; ++k) {
    const int32_t tok = inp[h_order_[static_cast<std::size_t>(k)]];
    if (k == 0 || tok != h_tokens_.back()) {
      h_starts_.push_back(k);
      h_tokens_.push_back(tok);
    }
  }
  h_starts_.push_back(BT);
  segments_ = static_cast<int>(h_tokens_.size());
  if (order_.size() < h_order_.size()) order_.allocate(h_order_.size());
  if (starts_.size() < h_starts_.size()) starts_.allocate(static_cast<std::size_t>(BT) + 1);
  if (tokens_.size() < h_tokens_.size()) tokens_.allocate(static_cast<std::size_t>(BT));
  order_.upload(h_order_.data(), h_order_.size(), stream);
  starts_.upload(h_starts_.data(), h_starts_.size(), stream);
  tokens_.upload(h_tokens_.data(), h_tokens_.size(), stream);
}

template <typename T>
void embedding_backward(float* dwte, float* dwpe, const T* dout, const EmbeddingIndex& index,
                        int B, int Tn, int C, cudaStream_t stream) {
  if (index.segments() > 0) {
    const dim3 grid(static_cast<unsigned>(index.segments()), detail::blocks_for(static_cast<std::size_t>(C), 128));
    wte_backward_kernel<<<grid, 128, 0, stream>>>(dwte, dout, index.order(), index.starts(),
                                                  index.tokens(), C);
    WEFT_CUDA_LAUNCH_CHECK();
  }
  const std::size_t n = static_cast<std::size_t>(Tn) * C;
  wpe_backward_kernel<<<detail::blocks_for(n, 256), 256, 0, stream>>>(dwpe, dout, B, Tn, C);
  WEFT_CUDA_LAUNCH_CHECK();
}

template void embedding_forward<float>(float*, const int32_t*, const float*, const float*, int, int, int, cudaStream_t);
template void embedding_forward<bf16>(bf16*, const int32_t*, const bf16*, const bf16*, int, int, int, cudaStream_t);
template void embedding_backward<float>(float*, float*, const float*, const EmbeddingIndex&, int, int, int, cudaStream_t);
template void embedding_backward<bf16>(float*, float*, const bf16*, const EmbeddingIndex&, int, int, int, cudaStream_t);

}  // namespace weft::cuda
