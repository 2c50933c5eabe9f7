// Builds the parameter table in llm.c order. See param_layout.hpp.
#include "model/param_layout.hpp"

#include "core/error.hpp"
#include "model/gpt_config.hpp"

namespace weft::model {

std::size_t ParamTensor::layer_size() const {
  if (!per_layer) return size;
  return size / static_cast<std::size_t>(shape[0]);
}

const char* tp_split_name(TpSplit split) {
  switch (split) {
    case TpSplit::kReplicated: return "replicated";
    case TpSplit::kColumn: return "column";
    case TpSplit::kRow: return "row";
    case TpSplit::kVocab: return "vocab";
  }
  return "?";
}

ParamLayout::ParamLayout(const GptConfig& cfg, int tp) : tp_(tp) {
  WEFT_CHECK(tp >= 1 && cfg.n_head % tp == 0 && cfg.padded_vocab % tp == 0, "tp=", tp,
             " does not divide n_head=", cfg.n_head, " and Vp=", cfg.padded_vocab);
  const long L = cfg.n_layer, C = cfg.n_embd, Vp = cfg.padded_vocab, maxT = cfg.max_seq;
  struct Row {
    const char* name;
    std::vector<long> shape;
    bool per_layer;
    bool is_matrix;
    TpSplit split;
    int split_dim;
    int blocks;
  };
  using S = TpSplit;
  // The tensor-parallel table: which dimension each tensor splits on (DESIGN.md:
  // the model declares, parallel/ applies).
  const Row rows[kNumParamTensors] = {
      {"wte", {Vp, C}, false, true, S::kVocab, 0, 1},
      {"wpe", {maxT, C}, false, true, S::kReplicated, -1, 1},
      {"ln1w", {L, C}, true, false, S::kReplicated, -1, 1},
      {"ln1b", {L, C}, true, false, S::kReplicated, -1, 1},
      {"qkvw", {L, 3 * C, C}, true, true, S::kColumn, 1, 3},
      {"qkvb", {L, 3 * C}, true, false, S::kColumn, 1, 3},
      {"attprojw", {L, C, C}, true, true, S::kRow, 2, 1},
      {"attprojb", {L, C}, true, false, S::kReplicated, -1, 1},
      {"ln2w", {L, C}, true, false, S::kReplicated, -1, 1},
      {"ln2b", {L, C}, true, false, S::kReplicated, -1, 1},
      {"fcw", {L, 4 * C, C}, true, true, S::kColumn, 1, 1},
      {"fcb", {L, 4 * C}, true, false, S::kColumn, 1, 1},
      {"fcprojw", {L, C, 4 * C}, true, true, S::kRow, 2, 1},
      {"fcprojb", {L, C}, true, false, S::kReplicated, -1, 1},
      {"lnfw", {C}, false, false, S::kReplicated, -1, 1},
      {"lnfb", {C}, false, false, S::kReplicated, -1, 1},
  };
  std::size_t offset = 0;
  for (int i = 0; i < kNumParamTensors; ++i) {
    ParamTensor& t = tensors_[i];
    t.name = rows[i].name;
    t.shape = rows[i].shape;
    t.per_layer = rows[i].per_layer;
    t.is_matrix = rows[i].is_matrix;
    t.tp_split = rows[i].split;
    t.split_dim = rows[i].split_dim;
    t.split_blocks = rows[i].blocks;
    t.full_shape = t.shape;
    if (t.split_dim >= 0) {
      long& d = t.shape[static_cast<std::size_t>(t.split_dim)];
      WEFT_CHECK(d % (static_cast<long>(t.split_blocks) * tp) == 0, "tensor ", t.name, " does not split by ", tp);
      d /= tp;
    }
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
