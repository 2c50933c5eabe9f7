// bf16 linear layer on oneDNN matmul primitives (see matmul_bf16.hpp). Each distinct
// (shape, layout, bias, accumulate) gets one primitive, built on first use and kept;
// user buffers are wrapped per call (cheap). Without oneDNN the class cannot be built
// and bf16_matmul_available() says so.
#include "kernels/cpu/matmul_bf16.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>

#include "core/aligned_buffer.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

#ifdef WEFT_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace weft::cpu {

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::kFp32;
  if (name == "bf16") return Precision::kBf16;
  throw input_error(str("--precision: unknown value '", name, "' (expected fp32 or bf16)"));
}

const char* precision_name(Precision p) { return p == Precision::kBf16 ? "bf16" : "fp32"; }

Precision precision_in_effect(Precision want, const char* what) {
  if (want != Precision::kBf16 || bf16_matmul_available()) return want;
  // Once per process: an RLHF run builds several models and would repeat it.
  static std::once_flag noticed;
  std::call_once(noticed, [&] {
    log_warn("--precision bf16: ", bf16_matmul_status(), "; ", what, " in fp32 instead");
  });
  return Precision::kFp32;
}

#ifdef WEFT_HAVE_DNNL

namespace {

// oneDNN's ISA values are nested bit masks: a CPU "has" an ISA when all its bits are set.
bool isa_at_least(dnnl::cpu_isa have, dnnl::cpu_isa want) {
  const auto h = static_cast<unsigned>(have), w = static_cast<unsigned>(want);
  return (h & w) == w;
}

// Σ_n dout[n, o] over column blocks, rows in order: same result for any thread count.
void bias_grad(float* dbias, const float* dout, int N, int OC) {
  constexpr int kBlock = 64;
  const int blocks = (OC + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static)
  for (int blk = 0; blk < blocks; ++blk) {
    const int o0 = blk * kBlock;
    const int width = o0 + kBlock < OC ? kBlock : OC - o0;
    float acc[kBlock] = {};
    for (int n = 0; n < N; ++n) {
      const float* d = dout + static_cast<std::size_t>(n) * OC + o0;
#pragma omp simd
      for (int o = 0; o < width; ++o) acc[o] += d[o];
    }
    for (int o = 0; o < width; ++o) dbias[o0 + o] += acc[o];
  }
}

}  // namespace

bool bf16_matmul_available() {
  return isa_at_least(dnnl::get_effective_cpu_isa(), dnnl::cpu_isa::avx512_core_bf16);
}

std::string bf16_matmul_status() {
  if (bf16_matmul_available()) return "bf16 matmuls: oneDNN with native bf16 (AVX512-BF16/AMX)";
  return "this CPU has neither AVX512-BF16 nor AMX (oneDNN would only emulate bf16)";
}

struct Bf16Matmul::Impl {
  // C (M,N) = A (M,K) · B (K,N); a_t: A stored as (K,M); b_t: B stored as (N,K).
  using Key = std::tuple<int, int, int, bool, bool, bool, bool>;  // M N K a_t b_t bias acc
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  std::map<Key, dnnl::matmul> cache;
  AlignedBuffer<bf16> inp16;   // (N, C) bf16 copy of the layer input
  AlignedBuffer<bf16> dout16;  // (N, OC) bf16 copy of the output gradient
  double seconds = 0.0;        // in forward/backward so far
  bool row_buckets = false;
  AlignedBuffer<float> out_pad;  // (bucket(N), OC) forward output when padded

  template <typename T>
  static void ensure(AlignedBuffer<T>& buf, std::size_t n) {
    if (buf.size() < n) buf.allocate(n, /*zero=*/false);
  }

  static dnnl::memory::desc desc(int rows, int cols, bool transposed,
                                 dnnl::memory::data_type dt) {
    using tag = dnnl::memory::format_tag;
    return dnnl::memory::desc({rows, cols}, dt, transposed ? tag::ba : tag::ab);
  }

  // dst (M,N) fp32 (+)= A·B (+ bias (N)).
  void run(float* dst, const bf16* a, const bf16* b, const float* bias, int M, int N, int K,
           bool a_t, bool b_t, bool accumulate) {
    using dt = dnnl::memory::data_type;
    const auto a_md = desc(M, K, a_t, dt::bf16);
    const auto b_md = desc(K, N, b_t, dt::bf16);
    const auto c_md = desc(M, N, false, dt::f32);
    const auto bias_md = desc(1, N, false, dt::f32);
    const Key key{M, N, K, a_t, b_t, bias != nullptr, accumulate};
    auto it = cache.find(key);
    if (it == cache.end()) {
      dnnl::primitive_attr attr;
      if (accumulate) {
        dnnl::post_ops ops;
        ops.append_sum(1.0f);
        attr.set_post_ops(ops);
      }
      const auto d = bias ? dnnl::matmul::desc(a_md, b_md, bias_md, c_md)
                          : dnnl::matmul::desc(a_md, b_md, c_md);
      it = cache.emplace(key, dnnl::matmul(dnnl::matmul::primitive_desc(d, attr, eng))).first;
    }
    // oneDNN takes non-const handles but only reads sources.
    dnnl::memory am(a_md, eng, const_cast<bf16*>(a));
    dnnl::memory bm(b_md, eng, const_cast<bf16*>(b));
    dnnl::memory cm(c_md, eng, dst);
    std::unordered_map<int, dnnl::memory> args{
        {DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}};
    if (bias) args.emplace(DNNL_ARG_BIAS, dnnl::memory(bias_md, eng, const_cast<float*>(bias)));
    it->second.execute(strm, args);
    strm.wait();
  }
};

Bf16Matmul::Bf16Matmul() {
  if (!bf16_matmul_available())
    throw config_error(str("bf16 matmuls unavailable: ", bf16_matmul_status()),
                       "use --precision fp32");
  impl_ = std::make_unique<Impl>();
}

Bf16Matmul::~Bf16Matmul() = default;

namespace {
// Adds the wall time of its scope to *sum.
struct ScopeSeconds {
  double* sum;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  ~ScopeSeconds() {
    *sum += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
};
}  // namespace

double Bf16Matmul::seconds() const { return impl_->seconds; }

void Bf16Matmul::forward(float* out, const float* inp, const bf16* weight, const float* bias,
                         int N, int C, int OC) {
  ScopeSeconds timer{&impl_->seconds};
  int M = N;  // rows the primitive runs
  if (impl_->row_buckets) {
    M = 1;
    while (M < N && M < 64) M *= 2;
    if (M < N) M = (N + 63) / 64 * 64;
  }
  const std::size_t nc = static_cast<std::size_t>(N) * C, mc = static_cast<std::size_t>(M) * C;
  Impl::ensure(impl_->inp16, mc);
  f32_to_bf16_array(impl_->inp16.data(), inp, nc);
  std::fill(impl_->inp16.data() + nc, impl_->inp16.data() + mc, bf16{0});
  float* dst = out;
  if (M > N) {
    Impl::ensure(impl_->out_pad, static_cast<std::size_t>(M) * OC);
    dst = impl_->out_pad.data();
  }
  // out (M,OC) = inp (M,C) · W^T where W (OC,C) read as a transposed (C,OC).
  impl_->run(dst, impl_->inp16.data(), weight, bias, M, OC, C, false, true, false);
  if (dst != out) std::copy(dst, dst + static_cast<std::size_t>(N) * OC, out);
}

void Bf16Matmul::set_row_buckets(bool on) { impl_->row_buckets = on; }

void Bf16Matmul::backward(float* dinp, float* dweight, float* dbias, const float* dout,
                          const float* inp, const bf16* weight, int N, int C, int OC) {
  ScopeSeconds timer{&impl_->seconds};
  const std::size_t no = static_cast<std::size_t>(N) * OC, nc = static_cast<std::size_t>(N) * C;
  Impl::ensure(impl_->dout16, no);
  Impl::ensure(impl_->inp16, nc);
  f32_to_bf16_array(impl_->dout16.data(), dout, no);
  f32_to_bf16_array(impl_->inp16.data(), inp, nc);
  // dinp (N,C) = dout (N,OC) · W (OC,C).
  if (dinp != nullptr)
    impl_->run(dinp, impl_->dout16.data(), weight, nullptr, N, C, OC, false, false, false);
  // dweight (OC,C) += dout^T (OC,N) · inp (N,C); dout read as a transposed (N,OC).
  impl_->run(dweight, impl_->dout16.data(), impl_->inp16.data(), nullptr, OC, C, N, true, false,
             true);
  if (dbias != nullptr) bias_grad(dbias, dout, N, OC);
}

#else  // no oneDNN in this build

bool bf16_matmul_available() { return false; }
std::string bf16_matmul_status() { return "this build has no oneDNN (install libdnnl-dev)"; }
struct Bf16Matmul::Impl {};
Bf16Matmul::Bf16Matmul() {
  throw config_error(str("bf16 matmuls unavailable: ", bf16_matmul_status()),
                     "use --precision fp32");
}
Bf16Matmul::~Bf16Matmul() = default;
double Bf16Matmul::seconds() const { return 0.0; }
void Bf16Matmul::set_row_buckets(bool) {}
void Bf16Matmul::forward(float*, const float*, const bf16*, const float*, int, int, int) {}
void Bf16Matmul::backward(float*, float*, float*, const float*, const float*, const bf16*, int,
                          int, int) {}

#endif

}  // namespace weft::cpu
