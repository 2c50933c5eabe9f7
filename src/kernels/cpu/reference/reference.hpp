// Plain double-precision reference versions of the CPU kernels: the oracle of the kernel
// tests (and of bench/bench_kernels' result check). Naive loops, no threads, no BLAS.
// Same argument order and shapes as weft::cpu; backward adds into parameter gradients and
// writes activation gradients. Kept in the library so benchmarks and model tests can use it.
#pragma once

#include <cstdint>

namespace weft::ref {

// out (B,T,C); inp (B,T); wte (Vp,C); wpe (maxT,C); pos (B,T) position ids or nullptr (= t).
void embedding_forward(double* out, const int32_t* inp, const double* wte, const double* wpe,
                       int B, int T, int C, const int32_t* pos = nullptr);
// dwte +=, dwpe +=.
void embedding_backward(double* dwte, double* dwpe, const double* dout, const int32_t* inp,
                        int B, int T, int C, const int32_t* pos = nullptr);

// out (N,C); mean, rstd (N); inp (N,C); weight, bias (C). eps 1e-5.
void layernorm_forward(double* out, double* mean, double* rstd, const double* inp,
                       const double* weight, const double* bias, int N, int C);
// dinp = ; dweight, dbias +=.
void layernorm_backward(double* dinp, double* dweight, double* dbias, const double* dout,
                        const double* inp, const double* weight, const double* mean,
                        const double* rstd, int N, int C);

// out (N,OC) = inp (N,C) · weight (OC,C)ᵀ + bias (OC, may be null).
void matmul_forward(double* out, const double* inp, const double* weight, const double* bias,
                    int N, int C, int OC);
// dinp = (may be null); dweight +=; dbias += (may be null).
void matmul_backward(double* dinp, double* dweight, double* dbias, const double* dout,
                     const double* inp, const double* weight, int N, int C, int OC);

// out (B,T,C); att (B,NH,T,T) probabilities (0 above the diagonal); qkv (B,T,3C).
// doc_start (B,T) or nullptr: query t attends keys doc_start[b,t]..t only (0 elsewhere).
void attention_forward(double* out, double* att, const double* qkv, int B, int T, int C, int NH,
                       const int32_t* doc_start = nullptr);
// dqkv (B,T,3C) =.
void attention_backward(double* dqkv, const double* dout, const double* att, const double* qkv,
                        int B, int T, int C, int NH);

// out (n); dinp (n) =.
void gelu_forward(double* out, const double* inp, long n);
void gelu_backward(double* dinp, const double* dout, const double* inp, long n);

// Weighted mean cross-entropy over the first V of Vp columns; weights may be null (all 1).
// losses (N) written (unweighted row losses, 0 where w == 0).
double classifier_loss(double* losses, const double* logits, const int32_t* targets,
                       const double* weights, int N, int V, int Vp);
// dlogits (N,Vp) = gradient of grad_scale · classifier_loss (padded columns 0).
void classifier_grad(double* dlogits, const double* logits, const int32_t* targets,
                     const double* weights, int N, int V, int Vp, double grad_scale);

}  // namespace weft::ref
