// Stage split and stage <-> full parameter copies. See stage_params.hpp.
#include "model/stage_params.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace weft::model {

std::vector<StageSpec> stage_split(int n_layer, int pp) {
  if (pp < 1 || n_layer < pp)
    throw config_error(str("--pp ", pp, " exceeds the model's ", n_layer,
                           " layers: every pipeline stage needs at least one layer"),
                       "use a deeper model or fewer stages");
  std::vector<StageSpec> out(static_cast<std::size_t>(pp));
  int at = 0;
  for (int s = 0; s < pp; ++s) {
    const int n = n_layer / pp + (s < n_layer % pp ? 1 : 0);
    out[static_cast<std::size_t>(s)] = {at, at + n};
    at += n;
  }
  return out;
}

namespace {

// Copies tensor by tensor; per-layer tensors only layers [l0, l1) of the full one.
// to_full: direction; take_whole(id): whether a non-layer tensor is copied.
template <typename Take>
void copy_stage(const ParamLayout& full, float* full_p, const ParamLayout& st, float* st_p,
                const StageSpec& s, bool to_full, Take take_whole) {
  for (int i = 0; i < kNumParamTensors; ++i) {
    const ParamTensor& f = full.tensors()[static_cast<std::size_t>(i)];
    const ParamTensor& t = st.tensors()[static_cast<std::size_t>(i)];
    float* a = full_p + f.offset;
    float* b = st_p + t.offset;
    std::size_t n = t.size;
    if (f.per_layer) {
      WEFT_CHECK(f.layer_size() == t.layer_size(), "stage layout of ", f.name, " differs");
      a += static_cast<std::size_t>(s.layer_begin) * f.layer_size();
      n = static_cast<std::size_t>(s.layer_end - s.layer_begin) * f.layer_size();
    } else {
      WEFT_CHECK(f.size == t.size, "stage layout of ", f.name, " differs");
      if (!take_whole(static_cast<ParamId>(i))) continue;
    }
    if (to_full)
      std::copy(b, b + n, a);
    else
      std::copy(a, a + n, b);
  }
}

}  // namespace

void stage_params_from_full(const ParamLayout& full, const float* full_params,
                            const StageSpec& stage, const ParamLayout& stage_layout,
                            float* stage_params) {
  copy_stage(full, const_cast<float*>(full_params), stage_layout, stage_params, stage, false,
             [](ParamId) { return true; });
}

void stage_params_to_full(const ParamLayout& stage_layout, const float* stage_params,
                          const StageSpec& stage, bool last, const ParamLayout& full,
                          float* full_params) {
  const bool first = stage.layer_begin == 0;
  copy_stage(full, full_params, stage_layout, const_cast<float*>(stage_params), stage, true,
             [&](ParamId id) {
               if (id == ParamId::kWte || id == ParamId::kWpe) return first;
               return last;  // lnfw, lnfb
             });
}

}  // namespace weft::model
