// GPT-2 forward/backward on one CUDA device (the GPU twin of GptModel, llm.c's
// train_gpt2.cu in weft's own kernels): fp32 master parameters, fp32 gradients and
// AdamW state on the device; activations and a weight copy in fp32 or bf16. Same
// parameter layout and init as GptModel, so a GPU run and a CPU run start identical.
// Single rank: it calls no ModelHooks (multi-GPU runs are not wired yet, docs/gpu.md).
// Built only with CUDA. Not thread-safe: one host thread drives it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "kernels/cpu/adamw.hpp"
#include "model/gpt_config.hpp"
#include "model/param_layout.hpp"

namespace weft::model {

struct GpuModelOptions {
  bool bf16 = true;           // activations and matmul weights in bf16 (else fp32 throughout)
  bool recompute = false;     // recompute attention probabilities and GELU in backward
  bool deterministic = true;  // no split-K atomics in cuBLASLt (weft kernels never use them)
};

class GptModelCuda {
 public:
  virtual ~GptModelCuda() = default;

  virtual const GptConfig& config() const = 0;
  virtual const ParamLayout& layout() const = 0;
  std::size_t num_params() const { return layout().total(); }

  // Host (num_params) fp32 → device master weights (and the bf16 copy).
  virtual void upload_params(const float* host) = 0;
  // Device master weights / gradients → host (num_params).
  virtual void download_params(float* host) const = 0;
  virtual void download_grads(float* host) const = 0;

  // As GptModel::forward / forward_train / backward; inp, targets are host (B,T) ids,
  // checked against the vocabulary here (weft::Error kInput naming the position).
  virtual float forward(const std::int32_t* inp, const std::int32_t* targets, int B, int T) = 0;
  virtual float forward_train(const std::int32_t* inp, const std::int32_t* targets, int B, int T,
                              float grad_scale) = 0;
  virtual void backward() = 0;
  virtual void zero_grad() = 0;
  // Logits (B,T,Vp) of the last forward() (not forward_train) as fp32 on the host.
  virtual void download_logits(float* host) const = 0;

  // Σ g² over all gradients (deterministic), and one AdamW step (t = steps so far + 1)
  // with gradients scaled by grad_scale (the clip factor).
  virtual double grad_sum_squares() = 0;
  virtual void adamw_step(const cpu::AdamWConfig& config, float grad_scale) = 0;
  virtual void synchronize() = 0;

  // Bytes this model holds on the device (parameters, state, activations, scratch).
  virtual std::size_t device_bytes() const = 0;
  virtual std::string memory_report() const = 0;
};

// Builds the model for batches up to B×T on the current device.
std::unique_ptr<GptModelCuda> make_gpt_model_cuda(const GptConfig& config, int B, int T,
                                                  const GpuModelOptions& options);

// Bytes make_gpt_model_cuda would allocate (the memory plan of docs/gpu.md), no device needed.
std::size_t gpt_model_cuda_bytes(const GptConfig& config, int B, int T,
                                 const GpuModelOptions& options);

}  // namespace weft::model
