// The layout of all GPT parameters in ONE flat float buffer: a table of
// (name, shape, offset) in llm.c's tensor order, so an llm.c checkpoint maps 1:1
// onto the buffer. Gradients and AdamW moments use the same layout, so DP/ZeRO can
// work on contiguous ranges. Value types; any thread. Views do not own memory.
// The table also declares how tensor parallelism splits each tensor (TpSplit);
// a layout built for tp > 1 holds one tp rank's shard of every tensor, and
// parallel/tp_shard.hpp slices a full (tp = 1) buffer into shards and back.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <vector>

namespace weft::model {

struct GptConfig;

// llm.c order. Per-layer tensors are stacked over L (layer l is slice l).
enum class ParamId : int {
  kWte = 0,   // (Vp, C)  token embedding, also the LM head (tied)
  kWpe,       // (maxT, C) position embedding
  kLn1w,      // (L, C)
  kLn1b,      // (L, C)
  kQkvw,      // (L, 3C, C)
  kQkvb,      // (L, 3C)
  kAttprojw,  // (L, C, C)
  kAttprojb,  // (L, C)
  kLn2w,      // (L, C)
  kLn2b,      // (L, C)
  kFcw,       // (L, 4C, C)
  kFcb,       // (L, 4C)
  kFcprojw,   // (L, C, 4C)
  kFcprojb,   // (L, C)
  kLnfw,      // (C)
  kLnfb,      // (C)
};
inline constexpr int kNumParamTensors = 16;

// How tensor parallelism (Megatron-style) splits a tensor over the tp group:
//  kReplicated: every rank holds it whole (LayerNorms, wpe, row-parallel biases);
//  kColumn: the output dimension is split (qkvw/qkvb by heads, fcw/fcb);
//  kRow: the input dimension is split (attprojw, fcprojw; their bias is replicated
//        and added by tp rank 0 only, before the all-reduce);
//  kVocab: the rows of wte (vocabulary) are split, rank r owning [r·Vp/tp, (r+1)·Vp/tp).
// Slicing rule (one for all): view the tensor as (outer, S, inner) around its
// split dimension `split_dim` of size S = blocks · Sb; rank r keeps, for every outer
// index and every block k, elements [k·Sb + r·Sb/tp, k·Sb + (r+1)·Sb/tp). qkv packs
// q|k|v as 3 blocks, so each rank keeps NH/tp heads of each of q, k and v.
enum class TpSplit : int { kReplicated = 0, kColumn, kRow, kVocab };
const char* tp_split_name(TpSplit split);

struct ParamTensor {
  std::string name;            // llm.c / this table's name, e.g. "qkvw"
  std::vector<long> shape;     // e.g. {L, 3C, C}
  std::size_t offset = 0;      // in floats, from the start of the flat buffer
  std::size_t size = 0;        // in floats
  bool per_layer = false;      // first dimension is L
  bool is_matrix = false;      // a 2-D weight per layer (weight decay applies)
  TpSplit tp_split = TpSplit::kReplicated;
  int split_dim = -1;          // index into shape (-1 when replicated)
  int split_blocks = 1;        // packed blocks along split_dim (3 for qkv)
  std::vector<long> full_shape;  // the shape at tp = 1 (shape is this rank's shard)
  std::size_t layer_size() const;  // floats in one layer's slice (size when !per_layer)
};

class ParamLayout {
 public:
  // tp > 1: every split tensor holds 1/tp of its split dimension (the shapes of
  // one tp rank's shard; the same for every rank). tp must divide n_head and Vp.
  explicit ParamLayout(const GptConfig& config, int tp = 1);

  const ParamTensor& operator[](ParamId id) const { return tensors_[static_cast<int>(id)]; }
  const std::array<ParamTensor, kNumParamTensors>& tensors() const { return tensors_; }
  std::size_t total() const { return total_; }  // floats in the whole buffer
  int tp() const { return tp_; }
  // Shape as text, e.g. "(2, 192, 64)".
  static std::string shape_string(const ParamTensor& t);

 private:
  std::array<ParamTensor, kNumParamTensors> tensors_;
  std::size_t total_ = 0;
  int tp_ = 1;
};

// Named pointers into a flat buffer laid out by ParamLayout (llm.c's
// ParameterTensors). T is float or const float. Shapes as in ParamId.
template <typename T>
struct ParamViews {
  // Shapes at tp = 1; with tp > 1 the split dimension is /tp (see TpSplit).
  T* wte;       // (Vp, C)
  T* wpe;       // (maxT, C)
  T* ln1w;      // (L, C)
  T* ln1b;      // (L, C)
  T* qkvw;      // (L, 3C, C)
  T* qkvb;      // (L, 3C)
  T* attprojw;  // (L, C, C)
  T* attprojb;  // (L, C)
  T* ln2w;      // (L, C)
  T* ln2b;      // (L, C)
  T* fcw;       // (L, 4C, C)
  T* fcb;       // (L, 4C)
  T* fcprojw;   // (L, C, 4C)
  T* fcprojb;   // (L, C)
  T* lnfw;      // (C)
  T* lnfb;      // (C)

  static ParamViews make(const ParamLayout& layout, T* base) {
    auto at = [&](ParamId id) { return base + layout[id].offset; };
    return {at(ParamId::kWte),     at(ParamId::kWpe),      at(ParamId::kLn1w),
            at(ParamId::kLn1b),    at(ParamId::kQkvw),     at(ParamId::kQkvb),
            at(ParamId::kAttprojw), at(ParamId::kAttprojb), at(ParamId::kLn2w),
            at(ParamId::kLn2b),    at(ParamId::kFcw),      at(ParamId::kFcb),
            at(ParamId::kFcprojw), at(ParamId::kFcprojb),  at(ParamId::kLnfw),
            at(ParamId::kLnfb)};
  }
};

}  // namespace weft::model
