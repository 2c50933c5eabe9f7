// Linear layer in bf16 with fp32 accumulation (oneDNN matmul primitives, created once
// per shape and cached), same maths and argument order as matmul.hpp. Weights come as
// a bf16 copy the caller prepares once per step; fp32 activations are rounded to bf16
// inside (into scratch this object owns). Outputs and gradients stay fp32.
// One Bf16Matmul per model; call from one thread (oneDNN uses OpenMP inside).
#pragma once

#include <memory>
#include <string>

#include "kernels/cpu/bf16.hpp"

namespace weft::cpu {

enum class Precision { kFp32, kBf16 };

// "fp32" / "bf16"; anything else throws an input error naming the value.
Precision parse_precision(const std::string& name);
const char* precision_name(Precision p);

// True when this build has oneDNN and the CPU has native bf16 dot products
// (AVX512-BF16 or AMX); otherwise bf16 matmuls would be emulated or impossible.
bool bf16_matmul_available();
// A one-line description of why bf16 is (un)available, for the fallback notice.
std::string bf16_matmul_status();
// The precision to run in: `want`, or fp32 when bf16 is asked for and unavailable, in
// which case one warning per process says so ("--precision bf16: <why>; <what> in fp32
// instead"; `what` e.g. "training", "generating"). Any thread.
Precision precision_in_effect(Precision want, const char* what);

class Bf16Matmul {
 public:
  Bf16Matmul();  // throws when !bf16_matmul_available()
  ~Bf16Matmul();
  Bf16Matmul(const Bf16Matmul&) = delete;
  Bf16Matmul& operator=(const Bf16Matmul&) = delete;

  // Callers whose row count changes from call to call (the inference decoder) set
  // this: forward then runs M = N rounded up to a bucket (powers of two up to 64, then
  // multiples of 64) on zero-padded rows, so a handful of primitives serve every N
  // instead of one JIT-compiled primitive per distinct N. Results are the same rows.
  void set_row_buckets(bool on);

  // out (N,OC) written = bf16(inp) · weightᵀ + bias; inp (N,C) fp32; weight (OC,C) bf16;
  // bias (OC) fp32 or nullptr.
  void forward(float* out, const float* inp, const bf16* weight, const float* bias, int N, int C,
               int OC);
  // dinp (N,C) WRITTEN = bf16(dout) · weight, skipped when nullptr;
  // dweight (OC,C) += bf16(dout)ᵀ · bf16(inp); dbias (OC) += Σ_n dout[n,:] in fp32,
  // skipped when nullptr. dout (N,OC) fp32; inp (N,C) fp32; weight (OC,C) bf16.
  void backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                const bf16* weight, int N, int C, int OC);

  // Wall seconds spent in forward/backward so far (conversions and GEMMs), for profiles.
  double seconds() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::cpu
