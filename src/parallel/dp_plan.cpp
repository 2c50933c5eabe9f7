// Buckets and ZeRO ownership of a GPT flat buffer. See dp_plan.hpp.
#include "parallel/dp_plan.hpp"

#include "core/error.hpp"
#include "model/model_hooks.hpp"

namespace weft::parallel {
namespace {

// Adds slice [a, b) of tensor `t` to the bucket, merging with the range of the same
// tensor that it extends downwards (layers join in descending order).
void add_slice(DpBucket& bucket, std::size_t a, std::size_t b, bool decay, int tensor) {
  for (DpRange& r : bucket.ranges) {
    if (r.begin == b && r.tensor == tensor) {
      r.begin = a;
      bucket.floats += b - a;
      return;
    }
  }
  bucket.ranges.push_back({a, b, decay, tensor});
  bucket.floats += b - a;
}

}  // namespace

DpPlan::DpPlan(const model::ParamLayout& layout, int n_layer, int dp_size,
               std::size_t bucket_floats, bool one_unit_per_bucket)
    : n_(dp_size) {
  WEFT_CHECK(dp_size >= 1 && n_layer >= 1);
  unit_bucket_.assign(static_cast<std::size_t>(n_layer) + 2, -1);
  // Units in backward order: head, layers L-1..0, embedding.
  std::vector<int> order{model::unit_head(n_layer)};
  for (int l = n_layer - 1; l >= 0; --l) order.push_back(l);
  order.push_back(model::kUnitEmbedding);

  DpBucket open;
  auto close = [&] {
    if (open.units.empty()) return;
    buckets_.push_back(std::move(open));
    open = {};
  };
  for (int unit : order) {
    for (int id = 0; id < model::kNumParamTensors; ++id) {
      const model::ParamTensor& t = layout.tensors()[static_cast<std::size_t>(id)];
      const bool is_embedding = t.name == "wte" || t.name == "wpe";
      const bool is_head = t.name == "lnfw" || t.name == "lnfb";
      if (unit == model::kUnitEmbedding && is_embedding) {
        add_slice(open, t.offset, t.offset + t.size, t.is_matrix, id);
      } else if (unit == model::unit_head(n_layer) && is_head) {
        add_slice(open, t.offset, t.offset + t.size, t.is_matrix, id);
      } else if (unit >= 0 && unit < n_layer && t.per_layer) {
        const std::size_t ls = t.layer_size();
        const std::size_t a = t.offset + static_cast<std::size_t>(unit) * ls;
        add_slice(open, a, a + ls, t.is_matrix, id);
      }
    }
    open.units.push_back(unit);
    unit_bucket_[static_cast<std::size_t>(unit + 1)] = static_cast<int>(buckets_.size());
    if (one_unit_per_bucket || open.floats >= bucket_floats) close();
  }
  close();
  for (const DpBucket& b : buckets_)
    for (const DpRange& r : b.ranges) shard_floats_ += piece(r) + (r.end - tail_begin(r));
}

}  // namespace weft::parallel
