// AdamW over the flat parameter buffer. See adamw_optimizer.hpp.
#include "train/adamw_optimizer.hpp"

namespace weft::train {

AdamWOptimizer::AdamWOptimizer(const model::ParamLayout& layout)
    : m_(layout.total()), v_(layout.total()) {
  for (const model::ParamTensor& t : layout.tensors()) {
    // Merge neighbours with the same decay flag: fewer, longer ranges.
    if (!ranges_.empty() && ranges_.back().decay == t.is_matrix &&
        ranges_.back().offset + ranges_.back().count == t.offset) {
      ranges_.back().count += t.size;
    } else {
      ranges_.push_back({t.offset, t.size, t.is_matrix});
    }
  }
}

void AdamWOptimizer::step(float* params, const float* grads, const cpu::AdamWConfig& config,
                          float grad_scale, cpu::bf16* params_bf16) {
  ++t_;
  cpu::adamw_update(params, m_.data(), v_.data(), grads, m_.size(), ranges_, config, t_,
                    grad_scale, params_bf16);
}

}  // namespace weft::train
