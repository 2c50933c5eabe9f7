// AdamW and the global gradient norm on the GPU. Master weights, m and v in fp32 (as
// cpu::adamw_update, same rounding: scalars formed in double on the host, fma where
// PyTorch has one); the update also writes the bf16 copy the next forward reads.
// Deterministic. One host thread per stream.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/cpu/adamw.hpp"
#include "kernels/cuda/adamw_kernels.hpp"

namespace weft::cuda {

// params, m, v (n) updated in place; grads (n) · grad_scale; only `ranges` are touched;
// params_copy (n) of T: written with the new params rounded to T, or nullptr.
template <typename T>
void adamw_update(float* params, float* m, float* v, const float* grads, T* params_copy,
                  std::span<const cpu::AdamWRange> ranges, const cpu::AdamWConfig& config,
                  int64_t t, float grad_scale, cudaStream_t stream);

}  // namespace weft::cuda
