// GELU, tanh approximation (GPT-2, torch.nn.GELU(approximate="tanh")):
// gelu(x) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). Elementwise, vectorised.
// Pure functions over caller-owned buffers; call from one thread (OpenMP inside).
#pragma once

#include <cstddef>

namespace weft::cpu {

// out (n) written; inp (n). out may alias inp.
void gelu_forward(float* out, const float* inp, std::size_t n);

// dinp (n) WRITTEN (=) = gelu'(inp) · dout; inp (n) is gelu's input; dout (n).
// dinp may alias dout.
void gelu_backward(float* dinp, const float* dout, const float* inp, std::size_t n);

}  // namespace weft::cpu
