// Attention kernels and the cuBLAS batched GEMMs around them. See attention.hpp.
#include <cmath>
#include <type_traits>

#include "kernels/cuda/attention.hpp"
#include "kernels/cuda/device_math.cuh"

namespace weft::cuda {
namespace {
using detail::from_f32;
using detail::to_f32;
using detail::warp_max;
using detail::warp_sum;

// qkv (B,T,3,NH,hs) → q, k, v (B,NH,T,hs) each.
template <typename T>
__global__ void permute_qkv_kernel(T* q, T* k, T* v, const T* qkv, int B, int Tn, int NH, int hs) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  const std::size_t total = static_cast<std::size_t>(B) * NH * Tn * hs;
  if (i >= total) return;
  const int d = static_cast<int>(i % hs);
  const int t = static_cast<int>((i / hs) % Tn);
  const int h = static_cast<int>((i / (static_cast<std::size_t>(hs) * Tn)) % NH);
  const int b = static_cast<int>(i / (static_cast<std::size_t>(hs) * Tn * NH));
  const int C = NH * hs;
  const std::size_t src = (static_cast<std::size_t>(b) * Tn + t) * 3 * C + h * hs + d;
  q[i] = qkv[src];
  k[i] = qkv[src + C];
  v[i] = qkv[src + 2 * C];
}

// dq, dk, dv (B,NH,T,hs) → dqkv (B,T,3,NH,hs).
template <typename T>
__global__ void unpermute_qkv_kernel(T* dqkv, const T* dq, const T* dk, const T* dv, int B, int Tn,
                                     int NH, int hs) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  const std::size_t total = static_cast<std::size_t>(B) * NH * Tn * hs;
  if (i >= total) return;
  const int d = static_cast<int>(i % hs);
  const int t = static_cast<int>((i / hs) % Tn);
  const int h = static_cast<int>((i / (static_cast<std::size_t>(hs) * Tn)) % NH);
  const int b = static_cast<int>(i / (static_cast<std::size_t>(hs) * Tn * NH));
  const int C = NH * hs;
  const std::size_t dst = (static_cast<std::size_t>(b) * Tn + t) * 3 * C + h * hs + d;
  dqkv[dst] = dq[i];
  dqkv[dst + C] = dk[i];
  dqkv[dst + 2 * C] = dv[i];
}

// (B,NH,T,hs) ↔ (B,T,NH,hs): to_heads=false writes out (B,T,C) from y (B,NH,T,hs).
template <typename T>
__global__ void permute_heads_kernel(T* dst, const T* src, int B, int Tn, int NH, int hs,
                                     bool to_heads) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  const std::size_t total = static_cast<std::size_t>(B) * NH * Tn * hs;
  if (i >= total) return;
  const int d = static_cast<int>(i % hs);
  const int t = static_cast<int>((i / hs) % Tn);
  const int h = static_cast<int>((i / (static_cast<std::size_t>(hs) * Tn)) % NH);
  const int b = static_cast<int>(i / (static_cast<std::size_t>(hs) * Tn * NH));
  const std::size_t flat = ((static_cast<std::size_t>(b) * Tn + t) * NH + h) * hs + d;
  if (to_heads)
    dst[i] = src[flat];
  else
    dst[flat] = src[i];
}

// In place over att (rows of T; row r is query t = r % T): scores (already scaled) →
// causal softmax; s > t set to 0. One warp per row.
template <typename T>
__global__ void causal_softmax_kernel(T* att, int rows, int Tn) {
  const int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= rows) return;
  const int t = row % Tn;
  T* x = att + static_cast<std::size_t>(row) * Tn;
  float mx = -INFINITY;
  for (int s = lane; s <= t; s += 32) mx = fmaxf(mx, to_f32(x[s]));
  mx = warp_max(mx);
  float sum = 0.0f;
  for (int s = lane; s <= t; s += 32) sum += expf(to_f32(x[s]) - mx);
  const float inv = 1.0f / warp_sum(sum);
  for (int s = lane; s < Tn; s += 32)
    x[s] = from_f32<T>(s <= t ? expf(to_f32(x[s]) - mx) * inv : 0.0f);
}

// In place over datt: dpreatt[t,s] = scale · att[t,s]·(datt[t,s] − Σ_s' att[t,s']·datt[t,s']).
template <typename T>
__global__ void softmax_backward_kernel(T* datt, const T* att, int rows, int Tn, float scale) {
  const int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= rows) return;
  const int t = row % Tn;
  T* g = datt + static_cast<std::size_t>(row) * Tn;
  const T* p = att + static_cast<std::size_t>(row) * Tn;
  float dot = 0.0f;
  for (int s = lane; s <= t; s += 32) dot += to_f32(p[s]) * to_f32(g[s]);
  dot = warp_sum(dot);
  for (int s = lane; s < Tn; s += 32)
    g[s] = from_f32<T>(s <= t ? scale * to_f32(p[s]) * (to_f32(g[s]) - dot) : 0.0f);
}

template <typename T>
cudaDataType_t data_type() {
  if constexpr (std::is_same_v<T, float>)
    return CUDA_R_32F;
  else
    return CUDA_R_16BF;
}

// Column-major batched C = alpha·op(A)·op(B), strides in elements.
template <typename T>
void batched_gemm(CudaContext& ctx, bool ta, bool tb, int m, int n, int k, float alpha, const T* a,
                  int lda, long long sa, const T* b, int ldb, long long sb, T* c, int ldc,
                  long long sc, int batch) {
  const float beta = 0.0f;
  WEFT_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
      ctx.cublas(), ta ? CUBLAS_OP_T : CUBLAS_OP_N, tb ? CUBLAS_OP_T : CUBLAS_OP_N, m, n, k, &alpha,
      a, data_type<T>(), lda, sa, b, data_type<T>(), ldb, sb, &beta, c, data_type<T>(), ldc, sc,
      batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

constexpr unsigned kThreads = 256;

}  // namespace

std::size_t attention_scratch(int B, int Tn, int C) {
  return 4 * static_cast<std::size_t>(B) * Tn * C;
}

template <typename T>
void attention_forward(CudaContext& ctx, T* out, T* att, T* scratch, const T* qkv, int B, int Tn,
                       int C, int NH) {
  const int hs = C / NH;
  const std::size_t btc = static_cast<std::size_t>(B) * Tn * C;
  T* q = scratch;
  T* k = scratch + btc;
  T* v = scratch + 2 * btc;
  T* y = scratch + 3 * btc;
  cudaStream_t st = ctx.stream();
  permute_qkv_kernel<<<detail::blocks_for(btc, kThreads), kThreads, 0, st>>>(q, k, v, qkv, B, Tn, NH, hs);
  WEFT_CUDA_LAUNCH_CHECK();
  const long long sh = static_cast<long long>(Tn) * hs, st2 = static_cast<long long>(Tn) * Tn;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  // scores (t,s) row-major = column-major (s,t) = kᵀ(T,hs)·q(hs,T), scaled.
  batched_gemm<T>(ctx, true, false, Tn, Tn, hs, scale, k, hs, sh, q, hs, sh, att, Tn, st2, B * NH);
  const int rows = B * NH * Tn;
  causal_softmax_kernel<<<detail::blocks_for(static_cast<std::size_t>(rows) * 32, kThreads), kThreads, 0, st>>>(att, rows, Tn);
  WEFT_CUDA_LAUNCH_CHECK();
  // y (t,d) row-major = column-major (d,t) = v(hs,T_s) · att(T_s,T_t).
  batched_gemm<T>(ctx, false, false, hs, Tn, Tn, 1.0f, v, hs, sh, att, Tn, st2, y, hs, sh, B * NH);
  permute_heads_kernel<<<detail::blocks_for(btc, kThreads), kThreads, 0, st>>>(out, y, B, Tn, NH, hs, false);
  WEFT_CUDA_LAUNCH_CHECK();
}

template <typename T>
void attention_backward(CudaContext& ctx, T* dqkv, T* datt, T* scratch, const T* dout, const T* att,
                        const T* qkv, int B, int Tn, int C, int NH) {
  const int hs = C / NH;
  const std::size_t btc = static_cast<std::size_t>(B) * Tn * C;
  T* q = scratch;
  T* k = scratch + btc;
  T* v = scratch + 2 * btc;
  T* dy = scratch + 3 * btc;
  cudaStream_t st = ctx.stream();
  permute_qkv_kernel<<<detail::blocks_for(btc, kThreads), kThreads, 0, st>>>(q, k, v, qkv, B, Tn, NH, hs);
  WEFT_CUDA_LAUNCH_CHECK();
  permute_heads_kernel<<<detail::blocks_for(btc, kThreads), kThreads, 0, st>>>(dy, dout, B, Tn, NH, hs, true);
  WEFT_CUDA_LAUNCH_CHECK();
  const long long sh = static_cast<long long>(Tn) * hs, st2 = static_cast<long long>(Tn) * Tn;
  const int batch = B * NH;
  // datt (t,s) row-major = column-major (s,t) = vᵀ(T_s,hs) · dy(hs,T_t).
  batched_gemm<T>(ctx, true, false, Tn, Tn, hs, 1.0f, v, hs, sh, dy, hs, sh, datt, Tn, st2, batch);
  // dv (s,d): column-major (d,s) = dy(hs,T_t) · attᵀ(T_t,T_s); written over v's scratch.
  T* dv = v;
  batched_gemm<T>(ctx, false, true, hs, Tn, Tn, 1.0f, dy, hs, sh, att, Tn, st2, dv, hs, sh, batch);
  const int rows = batch * Tn;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  softmax_backward_kernel<<<detail::blocks_for(static_cast<std::size_t>(rows) * 32, kThreads), kThreads, 0, st>>>(datt, att, rows, Tn, scale);
  WEFT_CUDA_LAUNCH_CHECK();
  // dq (t,d): column-major (d,t) = k(hs,T_s) · dpre(T_s,T_t); written over dy.
  T* dq = dy;
  batched_gemm<T>(ctx, false, false, hs, Tn, Tn, 1.0f, k, hs, sh, datt, Tn, st2, dq, hs, sh, batch);
  // dk (s,d): column-major (d,s) = q(hs,T_t) · dpreᵀ(T_t,T_s); written over k (read by dq
  // above, free now; a GEMM never writes over its own inputs).
  T* dk = k;
  batched_gemm<T>(ctx, false, true, hs, Tn, Tn, 1.0f, q, hs, sh, datt, Tn, st2, dk, hs, sh, batch);
  unpermute_qkv_kernel<<<detail::blocks_for(btc, kThreads), kThreads, 0, st>>>(dqkv, dq, dk, dv, B, Tn, NH, hs);
  WEFT_CUDA_LAUNCH_CHECK();
}

template void attention_forward<float>(CudaContext&, float*, float*, float*, const float*, int, int, int, int);
template void attention_forward<bf16>(CudaContext&, bf16*, bf16*, bf16*, const bf16*, int, int, int, int);
template void attention_backward<float>(CudaContext&, float*, float*, float*, const float*, const float*, const float*, int, int, int, int);
template void attention_backward<bf16>(CudaContext&, bf16*, bf16*, bf16*, const bf16*, const bf16*, const bf16*, int, int, int, int);

}  // namespace weft::cuda
