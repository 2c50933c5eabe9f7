// Builds the parameter table in llm.c order. See param_layout.hpp.
#include "model/param_layout.hpp"

#include "core/error.hpp"
#include "model/gpt_config.hpp"

namespace weft::model {

std::size_t ParamTensor::layer_size() const {
  if (!per_layer) return size;
  return size / static_cast<std::size_t>(shape[0]);
}

ParamLayout::ParamLayout(const GptConfig& cfg) {
  const long L = cfg.n_layer, C = cfg.n_embd, Vp = cfg.padded_vocab, maxT = cfg.max_seq;
  struct Row {
    const char* name;
    std::vector<long> shape;
    bool per_layer;
    bool is_matrix;
  };
  const Row rows[kNumParamTensors] = {
      {"wte", {Vp, C}, false, true},          {"wpe", {maxT, C}, false, true},
      {"ln1w", {L, C}, true, false},          {"ln1b", {L, C}, true, false},
      {"qkvw", {L, 3 * C, C}, true, true},    {"qkvb", {L, 3 * C}, true, false},
      {"attprojw", {L, C, C}, true, true},    {"attprojb", {L, C}, true, false},
      {"ln2w", {L, C}, true, false},          {"ln2b", {L, C}, true, false},
      {"fcw", {L, 4 * C, C}, true, true},     {"fcb", {L, 4 * C}, true, false},
      {"fcprojw", {L, C, 4 * C}, true, true}, {"fcprojb", {L, C}, true, false},
      {"lnfw", {C}, false, false},            {"lnfb", {C}, false, false},
  };
  std::size_t offset = 0;
  for (int i = 0; i < kNumParamTensors; ++i) {
    ParamTensor& t = tensors_[i];
    t.name = rows[i].name;
    t.shape = rows[i].shape;
    t.per_layer = rows[i].per_layer;
    t.is_matrix = rows[i].is_matrix;
    t.size = 1;
    for (long d : t.shape) {
      WEFT_CHECK(d > 0, "tensor ", t.name, " has a non-positive dimension");
      t.size *= static_cast<std::size_t>(d);
    }
    t.offset = offset;
    offset += t.size;
  }
  total_ = offset;
}

std::string ParamLayout::shape_string(const ParamTensor& t) {
  std::string s = "(";
  for (std::size_t i = 0; i < t.shape.size(); ++i) s += (i ? ", " : "") + std::to_string(t.shape[i]);
  return s + ")";
}

}  // namespace weft::model
