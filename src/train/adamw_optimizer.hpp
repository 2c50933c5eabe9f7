// AdamW state for a flat parameter buffer: first and second moments mirroring the
// ParamLayout, and the per-tensor ranges (weight decay on 2-D weights only) passed
// to the fused kernel. Owns m and v; one thread drives it (OpenMP inside).
#pragma once

#include <cstdint>
#include <vector>

#include "core/aligned_buffer.hpp"
#include "kernels/cpu/adamw.hpp"
#include "model/param_layout.hpp"

namespace weft::train {

class AdamWOptimizer {
 public:
  explicit AdamWOptimizer(const model::ParamLayout& layout);

  // One update with learning rate `lr` (other hyperparameters from `config`);
  // gradients are multiplied by grad_scale (the clip factor) on the fly. params_bf16
  // (num_params) or nullptr: also written with the bf16 rounding of the new params.
  void step(float* params, const float* grads, const cpu::AdamWConfig& config, float grad_scale,
            cpu::bf16* params_bf16 = nullptr);

  // Leaves [offset, offset + count) out of every later step (no read, no write): for a
  // copy of a tensor that another rank updates and then sends (the pipeline's last stage
  // holds a copy of the tied wte). Its m and v stay as they are.
  void exclude(std::size_t offset, std::size_t count);
  // Parameters a step updates (num_params minus what was excluded).
  std::size_t updated_params() const;

  std::int64_t steps_taken() const { return t_; }
  void set_steps_taken(std::int64_t t) { t_ = t; }  // resume from a checkpoint
  std::size_t size() const { return m_.size(); }
  float* m() { return m_.data(); }  // (num_params)
  float* v() { return v_.data(); }  // (num_params)

 private:
  AlignedBuffer<float> m_;  // (num_params) first moment
  AlignedBuffer<float> v_;  // (num_params) second moment
  std::vector<cpu::AdamWRange> ranges_;
  std::int64_t t_ = 0;
};

}  // namespace weft::train
