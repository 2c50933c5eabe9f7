// cuBLASLt linear layers. See matmul.hpp.
#include "kernels/cuda/matmul.hpp"

#include <cstdint>
#include <cstring>
#include <utility>
#include <map>
#include <mutex>
#include <tuple>
#include <type_traits>

#include "core/error.hpp"
#include "kernels/cuda/elementwise.hpp"

namespace weft::cuda {
namespace {

template <typename T>
cudaDataType_t data_type() {
  if constexpr (std::is_same_v<T, float>)
    return CUDA_R_32F;
  else
    return CUDA_R_16BF;
}

// RAII for the Lt descriptors of one call.
struct LtDescs {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  ~LtDescs() {
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    if (d) cublasLtMatrixLayoutDestroy(d);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (op) cublasLtMatmulDescDestroy(op);
  }
};

// Chosen algorithms by problem (heuristics are queried once per shape).
using AlgoKey = std::tuple<int, int, int, bool, bool, int, int, bool, bool, bool, std::uint32_t>;

// The largest power of two (<= 256) dividing the address: cuBLASLt's heuristics assume
// 256-byte aligned operands unless told otherwise, and per-layer views may be less.
std::uint32_t alignment(const void* p) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  std::uint32_t al = 256;
  while (al > 1 && a % al != 0) al /= 2;
  return al;
}
std::mutex g_algo_mutex;
std::map<AlgoKey, cublasLtMatmulAlgo_t> g_algos;

}  // namespace

template <typename TA, typename TD>
void lt_gemm(CudaContext& ctx, TD* d, const TA* a, const TA* b, bool trans_a, bool trans_b, int m,
             int n, int k, int lda, int ldb, int ldd, float alpha, float beta, const TD* bias) {
  LtDescs s;
  const cudaDataType_t ta = data_type<TA>(), td = data_type<TD>();
  WEFT_CUBLAS_CHECK(cublasLtMatmulDescCreate(&s.op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t opa = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t opb = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  WEFT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(s.op, CUBLASLT_MATMUL_DESC_TRANSA, &opa, sizeof opa));
  WEFT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(s.op, CUBLASLT_MATMUL_DESC_TRANSB, &opb, sizeof opb));
  if (bias != nullptr) {
    const cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
    WEFT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(s.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi));
    WEFT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(s.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
  }
  // Stored shapes (column-major): op(A) is m×k, so A is m×k or k×m.
  WEFT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&s.a, ta, trans_a ? k : m, trans_a ? m : k, lda));
  WEFT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&s.b, ta, trans_b ? n : k, trans_b ? k : n, ldb));
  WEFT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&s.d, td, m, n, ldd));

  const std::uint32_t align_a = alignment(a), align_b = alignment(b), align_d = alignment(d);
  const AlgoKey key{m, n, k, trans_a, trans_b, static_cast<int>(ta), static_cast<int>(td),
                    bias != nullptr, beta != 0.0f, ctx.deterministic(),
                    (align_a << 20) | (align_b << 10) | align_d};
  cublasLtMatmulAlgo_t algo;
  bool have = false;
  {
    std::lock_guard<std::mutex> lock(g_algo_mutex);
    auto it = g_algos.find(key);
    if (it != g_algos.end()) {
      algo = it->second;
      have = true;
    }
  }
  if (!have) {
    WEFT_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&s.pref));
    const std::size_t ws = ctx.workspace_bytes();
    WEFT_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(
        s.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
    const std::pair<cublasLtMatmulPreferenceAttributes_t, std::uint32_t> aligns[] = {
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, align_a},
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, align_b},
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, align_d},
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, align_d}};
    for (const auto& [attr, value] : aligns)
      WEFT_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(s.pref, attr, &value, sizeof value));
    if (ctx.deterministic()) {
      // Split-K with an in-place (atomic) reduction is not reproducible run to run.
      const uint32_t mask = CUBLASLT_REDUCTION_SCHEME_NONE | CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE |
                            CUBLASLT_REDUCTION_SCHEME_OUTPUT_TYPE;
      WEFT_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(
          s.pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, &mask, sizeof mask));
    }
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    WEFT_CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(ctx.cublaslt(), s.op, s.a, s.b, s.d, s.d,
                                                     s.pref, 1, &result, &found));
    if (found == 0)
      throw Error(ErrorKind::kRuntime,
                  str("cuBLASLt has no algorithm for a ", m, "x", n, "x", k, " GEMM (bias ",
                      bias != nullptr, ")"));
    algo = result.algo;
    std::lock_guard<std::mutex> lock(g_algo_mutex);
    g_algos.emplace(key, algo);
  }
  WEFT_CUBLAS_CHECK(cublasLtMatmul(ctx.cublaslt(), s.op, &alpha, a, s.a, b, s.b, &beta, d, s.d, d,
                                   s.d, &algo, ctx.workspace(), ctx.workspace_bytes(),
                                   ctx.stream()));
}

template <typename T>
void matmul_forward(CudaContext& ctx, T* out, const T* inp, const T* weight, const T* bias, int N,
                    int C, int OC) {
  // Row-major out (N,OC) is column-major (OC,N) = Wᵀ(OC,C) · inp(C,N).
  lt_gemm<T, T>(ctx, out, weight, inp, /*trans_a=*/true, /*trans_b=*/false, OC, N, C, C, C, OC,
                1.0f, 0.0f, bias);
}

template <typename T>
void matmul_backward(CudaContext& ctx, T* dinp, float* dweight, float* dbias, float* scratch,
                     const T* dout, const T* inp, const T* weight, int N, int C, int OC) {
  if (dinp != nullptr)  // column-major dinp (C,N) = W(C,OC) · dout(OC,N)
    lt_gemm<T, T>(ctx, dinp, weight, dout, false, false, C, N, OC, C, OC, C, 1.0f, 0.0f, nullptr);
  // column-major dweight (C,OC) += inp(C,N) · doutᵀ(N,OC), in fp32
  lt_gemm<T, float>(ctx, dweight, inp, dout, false, true, C, OC, N, C, OC, C, 1.0f, 1.0f, nullptr);
  if (dbias != nullptr) bias_backward<T>(dbias, scratch, dout, N, OC, ctx.stream());
}

template void lt_gemm<float, float>(CudaContext&, float*, const float*, const float*, bool, bool, int, int, int, int, int, int, float, float, const float*);
template void lt_gemm<bf16, bf16>(CudaContext&, bf16*, const bf16*, const bf16*, bool, bool, int, int, int, int, int, int, float, float, const bf16*);
template void lt_gemm<bf16, float>(CudaContext&, float*, const bf16*, const bf16*, bool, bool, int, int, int, int, int, int, float, float, const float*);
template void matmul_forward<float>(CudaContext&, float*, const float*, const float*, const float*, int, int, int);
template void matmul_forward<bf16>(CudaContext&, bf16*, const bf16*, const bf16*, const bf16*, int, int, int);
template void matmul_backward<float>(CudaContext&, float*, float*, float*, float*, const float*, const float*, const float*, int, int, int);
template void matmul_backward<bf16>(CudaContext&, bf16*, float*, float*, float*, const bf16*, const bf16*, const bf16*, int, int, int);

}  // namespace weft::cuda
