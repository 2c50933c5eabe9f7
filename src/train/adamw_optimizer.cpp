// AdamW over the flat parameter buffer. See adamw_optimizer.hpp.
#include "train/adamw_optimizer.hpp"

#include <utility>

#include "core/error.hpp"

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

void AdamWOptimizer::exclude(std::size_t offset, std::size_t count) {
  const std::size_t end = offset + count;
  WEFT_CHECK(end <= m_.size(), "AdamW exclude [", offset, ", +", count, ") beyond ", m_.size());
  std::vector<cpu::AdamWRange> kept;
  for (const cpu::AdamWRange& r : ranges_) {
    const std::size_t r_end = r.offset + r.count;
    if (r_end <= offset || r.offset >= end) {
      kept.push_back(r);
      continue;
    }
    if (r.offset < offset) kept.push_back({r.offset, offset - r.offset, r.decay});
    if (r_end > end) kept.push_back({end, r_end - end, r.decay});
  }
  ranges_ = std::move(kept);
}

std::size_t AdamWOptimizer::updated_params() const {
  std::size_t n = 0;
  for (const cpu::AdamWRange& r : ranges_) n += r.count;
  return n;
}

void AdamWOptimizer::step(float* params, const float* grads, const cpu::AdamWConfig& config,
                          float grad_scale, cpu::bf16* params_bf16) {
  ++t_;
  cpu::adamw_update(params, m_.data(), v_.data(), grads, m_.size(), ranges_, config, t_,
                    grad_scale, params_bf16);
}

}  // namespace weft::train
