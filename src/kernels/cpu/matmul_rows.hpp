// Linear layer for a few rows (decode steps: one token per sequence), out = inp · weightᵀ
// + bias, streaming each weight row ONCE for all rows. For N <= ~16, sgemm's packing
// of the weight matrix costs more memory traffic than the product itself; this kernel
// reads the weights exactly once, so decoding runs near the memory-bandwidth limit.
// Pure function over caller-owned buffers; call from one thread (OpenMP inside).
#pragma once

namespace weft::cpu {

// Rows at or below this use matmul_rows_forward in the generation decoder.
inline constexpr int kMatmulRowsMax = 16;

// out (N,OC) written; inp (N,C); weight (OC,C); bias (OC) or nullptr. Deterministic
// for any thread count (each output element is one sequential dot product).
void matmul_rows_forward(float* out, const float* inp, const float* weight, const float* bias,
                         int N, int C, int OC);

}  // namespace weft::cpu
