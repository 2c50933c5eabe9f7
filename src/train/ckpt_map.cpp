// Local ↔ global element mapping of a rank's parameters. See ckpt_map.hpp.
#include "train/ckpt_map.hpp"

#include <algorithm>
#include <cstring>

#include "core/error.hpp"

namespace weft::train {
namespace {

int tensor_at(const model::ParamLayout& layout, std::size_t at) {
  for (int i = 0; i < model::kNumParamTensors; ++i) {
    const model::ParamTensor& t = layout.tensors()[static_cast<std::size_t>(i)];
    if (at >= t.offset && at < t.offset + t.size) return i;
  }
  WEFT_CHECK(false, "offset ", at, " outside the parameter layout (", layout.total(), " floats)");
  return -1;
}

}  // namespace

CkptMap::CkptMap(const model::GptModel& m, const model::GptConfig& full)
    : CkptMap(m.layout(), full, m.tp(), m.stage(), m.last_stage()) {}

CkptMap::CkptMap(const model::ParamLayout& local, const model::GptConfig& full, model::TpShard tp,
                 model::StageSpec stage, bool last_stage)
    : local_(local), full_(full), tp_(tp), stage_(stage), last_stage_(last_stage) {
  WEFT_CHECK(local_.tp() == tp_.size, "layout tp ", local_.tp(), " vs shard size ", tp_.size);
}

bool CkptMap::writes(int tensor) const {
  const model::ParamTensor& t = local_.tensors()[static_cast<std::size_t>(tensor)];
  if (tp_.size > 1 && t.tp_split == model::TpSplit::kReplicated && tp_.rank != 0) return false;
  if (t.per_layer) return true;
  const auto id = static_cast<model::ParamId>(tensor);
  if (id == model::ParamId::kWte || id == model::ParamId::kWpe) return stage_.layer_begin == 0;
  return last_stage_;  // lnfw, lnfb
}

CkptRun CkptMap::run_at(int tensor, std::size_t e) const {
  const model::ParamTensor& lt = local_.tensors()[static_cast<std::size_t>(tensor)];
  const model::ParamTensor& ft = full_.tensors()[static_cast<std::size_t>(tensor)];
  // The stage's layer l is the global layer layer_begin + l (L is the outermost dim).
  const std::size_t shift =
      ft.per_layer ? static_cast<std::size_t>(stage_.layer_begin) * ft.layer_size() : 0;
  if (tp_.size == 1 || lt.tp_split == model::TpSplit::kReplicated)
    return {lt.offset + e, e + shift, lt.size - e, tensor};
  // As parallel/tp_shard.cpp: local (outer, blocks, part, inner) ↔ global
  // (outer, blocks, Sb, inner) with this rank's part at rank · part inside each block.
  const std::size_t d = static_cast<std::size_t>(lt.split_dim);
  std::size_t inner = 1;
  for (std::size_t k = d + 1; k < lt.shape.size(); ++k)
    inner *= static_cast<std::size_t>(lt.shape[k]);
  const std::size_t blocks = static_cast<std::size_t>(lt.split_blocks);
  const std::size_t part = static_cast<std::size_t>(lt.shape[d]) / blocks;
  const std::size_t S = static_cast<std::size_t>(ft.shape[d]), Sb = S / blocks;
  WEFT_CHECK(part * static_cast<std::size_t>(tp_.size) == Sb, "tensor ", lt.name, ": local split ",
             part, " × tp ", tp_.size, " != ", Sb);
  const std::size_t k = e % inner, q = e / inner;
  const std::size_t j = q % part, b = (q / part) % blocks, o = q / part / blocks;
  const std::size_t g =
      (o * S + b * Sb + static_cast<std::size_t>(tp_.rank) * part + j) * inner + k;
  return {lt.offset + e, g + shift, part * inner - (j * inner + k), tensor};
}

std::vector<CkptRun> CkptMap::runs(std::size_t begin, std::size_t count, bool writer_only) const {
  std::vector<CkptRun> out;
  const std::size_t end = begin + count;
  WEFT_CHECK(end <= local_.total(), "range end ", end, " past the layout (", local_.total(), ")");
  for (std::size_t at = begin; at < end;) {
    const int i = tensor_at(local_, at);
    CkptRun r = run_at(i, at - local_.tensors()[static_cast<std::size_t>(i)].offset);
    r.count = std::min(r.count, end - at);
    at += r.count;
    if (writer_only && !writes(i)) continue;
    if (!out.empty()) {
      CkptRun& p = out.back();
      if (p.tensor == r.tensor && p.local + p.count == r.local && p.global + p.count == r.global) {
        p.count += r.count;
        continue;
      }
    }
    out.push_back(r);
  }
  return out;
}

std::size_t CkptMap::global_offset(std::size_t local) const {
  const int i = tensor_at(local_, local);
  const CkptRun r = run_at(i, local - local_.tensors()[static_cast<std::size_t>(i)].offset);
  return full_.tensors()[static_cast<std::size_t>(i)].offset + r.global;
}

void CkptMap::local_from_global(const float* global, float* local) const {
  for (const CkptRun& r : runs(0, local_.total(), /*writer_only=*/false))
    std::memcpy(local + r.local,
                global + full_.tensors()[static_cast<std::size_t>(r.tensor)].offset + r.global,
                r.count * sizeof(float));
}

}  // namespace weft::train
