// Residual connection: out = inp1 + inp2, elementwise. Pure functions over caller-owned
// buffers; call from one thread (OpenMP inside).
#pragma once

#include <cstddef>

namespace weft::cpu {

// out (n) written; inp1, inp2 (n). out may alias either input.
void residual_forward(float* out, const float* inp1, const float* inp2, std::size_t n);

// dinp1, dinp2 (n) WRITTEN (=) with dout (n).
void residual_backward(float* dinp1, float* dinp2, const float* dout, std::size_t n);

// dinp1, dinp2 (n) += dout (n): the accumulating form for a residual stream whose
// gradient already holds other contributions (llm.c style).
void residual_backward_add(float* dinp1, float* dinp2, const float* dout, std::size_t n);

// y (n) += x (n). Also the building block of the fused residual path.
void add_inplace(float* y, const float* x, std::size_t n);

}  // namespace weft::cpu
