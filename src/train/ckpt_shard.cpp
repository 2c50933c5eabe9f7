// Which pieces of the global tensors a rank holds under its layout, and putting a
// full optimizer state back into a layout's slices. The one place that knows the DP
// owner rule (parallel/dp_plan.hpp); TP/PP add their rules here. See checkpoint.hpp.
#include <algorithm>

#include "core/error.hpp"
#include "model/stage_params.hpp"
#include "parallel/data_parallel.hpp"
#include "parallel/tp_shard.hpp"
#include "train/checkpoint.hpp"

namespace weft::train {
namespace {

struct Piece {
  std::size_t begin, count;  // flat buffer floats
  std::size_t shard_off;     // where it sits in a ZeRO shard (m/v), or begin
};

// Flat pieces this rank owns, in the DP plan's order (one rank: every tensor whole).
// shard_off follows the ZeRO shard packing (piece then tail, tails on every rank).
std::vector<Piece> owned_pieces(const model::GptModel& m, const parallel::DataParallel* dp,
                                int rank) {
  std::vector<Piece> out;
  if (dp == nullptr) {
    for (const model::ParamTensor& t : m.layout().tensors())
      out.push_back({t.offset, t.size, t.offset});
    return out;
  }
  const parallel::DpPlan& plan = dp->plan();
  std::size_t off = 0;
  for (const parallel::DpBucket& bk : plan.buckets())
    for (const parallel::DpRange& r : bk.ranges) {
      const std::size_t pb = plan.piece_begin(r, rank), pc = plan.piece(r);
      if (pc > 0) out.push_back({pb, pc, off});
      off += pc;
      const std::size_t tb = plan.tail_begin(r);
      if (tb < r.end && rank == 0) out.push_back({tb, r.end - tb, off});
      off += r.end - tb;
    }
  return out;
}

// Tensor index (ParamLayout order) holding flat offset `at`.
int tensor_of(const model::ParamLayout& layout, std::size_t at) {
  for (int i = 0; i < model::kNumParamTensors; ++i) {
    const model::ParamTensor& t = layout.tensors()[static_cast<std::size_t>(i)];
    if (at >= t.offset && at < t.offset + t.size) return i;
  }
  WEFT_CHECK(false, "offset ", at, " outside the parameter layout");
  return -1;
}

// Tensor parallel: the tp group gathers params and moments whole; world rank 0
// writes every tensor once.
std::vector<CkptTensor> tp_full_tensors(model::GptModel& m, AdamWOptimizer* opt,
                                        comm::Communicator& tp_comm, int rank, CkptScratch& sc) {
  WEFT_CHECK(opt != nullptr, "tensor parallel checkpoints need the full optimizer (ZeRO-0)");
  const model::ParamLayout full(m.config());
  sc.params.resize(full.total());
  sc.m.resize(full.total());
  sc.v.resize(full.total());
  parallel::tp_gather_params(tp_comm, m.config(), m.params(), sc.params.data());
  parallel::tp_gather_params(tp_comm, m.config(), opt->m(), sc.m.data());
  parallel::tp_gather_params(tp_comm, m.config(), opt->v(), sc.v.data());
  std::vector<CkptTensor> out;
  if (rank != 0) return out;
  const char* groups[3] = {"params/", "adam_m/", "adam_v/"};
  const float* bases[3] = {sc.params.data(), sc.m.data(), sc.v.data()};
  for (int g = 0; g < 3; ++g)
    for (const model::ParamTensor& t : full.tensors()) {
      CkptTensor ct;
      ct.name = groups[g] + t.name;
      ct.shape.assign(t.shape.begin(), t.shape.end());
      ct.ranges.push_back({0, t.size});
      ct.sources.push_back(bases[g] + t.offset);
      out.push_back(std::move(ct));
    }
  return out;
}

// Pipeline stage: the stage layout's tensors renamed to the full model's global
// shapes; per-layer ranges move by layer_begin layers; wte/wpe are kept only by the
// first stage and lnf only by the last (the others hold unused or mirrored copies).
void to_global_stage(std::vector<CkptTensor>& out, const model::GptModel& m,
                     const model::GptConfig& full_cfg) {
  const model::ParamLayout full(full_cfg);
  const model::ParamLayout& st = m.layout();
  for (CkptTensor& ct : out) {
    int i = 0;
    while (i < model::kNumParamTensors &&
           ct.name.substr(ct.name.find('/') + 1) != st.tensors()[static_cast<std::size_t>(i)].name)
      ++i;
    WEFT_CHECK(i < model::kNumParamTensors, "unknown checkpoint tensor ", ct.name);
    const model::ParamTensor& f = full.tensors()[static_cast<std::size_t>(i)];
    ct.shape.assign(f.shape.begin(), f.shape.end());
    if (f.per_layer) {
      const std::size_t shift = static_cast<std::size_t>(m.stage().layer_begin) * f.layer_size();
      for (CkptRange& r : ct.ranges) r.start += shift;
      continue;
    }
    const auto id = static_cast<model::ParamId>(i);
    const bool keep = id == model::ParamId::kWte || id == model::ParamId::kWpe ? m.first_stage()
                                                                                : m.last_stage();
    if (!keep) {
      ct.ranges.clear();
      ct.sources.clear();
    }
  }
}

}  // namespace

std::vector<CkptTensor> ckpt_rank_tensors(model::GptModel& m, AdamWOptimizer* opt,
                                          parallel::DataParallel* dp, comm::Communicator* tp_comm,
                                          int rank, CkptScratch& scratch,
                                          const model::GptConfig* full_cfg) {
  if (tp_comm != nullptr && tp_comm->size() > 1)
    return tp_full_tensors(m, opt, *tp_comm, rank, scratch);
  if (dp != nullptr) rank = dp->comm().rank();  // ownership follows the dp axis
  const model::ParamLayout& layout = m.layout();
  const bool sharded_opt = dp != nullptr && dp->zero() >= 1;
  WEFT_CHECK(sharded_opt || opt != nullptr, "checkpoint without an optimizer");
  const float* mom[2] = {sharded_opt ? dp->shard_m() : opt->m(),
                         sharded_opt ? dp->shard_v() : opt->v()};
  // group 0 = params, 1 = adam_m, 2 = adam_v; per tensor index.
  std::vector<CkptTensor> out(3 * model::kNumParamTensors);
  const char* groups[3] = {"params/", "adam_m/", "adam_v/"};
  for (int g = 0; g < 3; ++g)
    for (int i = 0; i < model::kNumParamTensors; ++i) {
      const model::ParamTensor& t = layout.tensors()[static_cast<std::size_t>(i)];
      CkptTensor& ct = out[static_cast<std::size_t>(g * model::kNumParamTensors + i)];
      ct.name = groups[g] + t.name;
      ct.shape.assign(t.shape.begin(), t.shape.end());
    }
  for (const Piece& p : owned_pieces(m, dp, rank)) {
    const int i = tensor_of(layout, p.begin);
    const std::size_t t0 = layout.tensors()[static_cast<std::size_t>(i)].offset;
    const std::size_t mo = sharded_opt ? p.shard_off : p.begin;
    const float* src[3] = {m.params() + p.begin, mom[0] + mo, mom[1] + mo};
    for (int g = 0; g < 3; ++g) {
      CkptTensor& ct = out[static_cast<std::size_t>(g * model::kNumParamTensors + i)];
      ct.ranges.push_back({p.begin - t0, p.count});
      ct.sources.push_back(src[g]);
    }
  }
  for (CkptTensor& ct : out) {  // ascending ranges (the plan walks backward order)
    std::vector<std::size_t> idx(ct.ranges.size());
    for (std::size_t k = 0; k < idx.size(); ++k) idx[k] = k;
    std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
      return ct.ranges[a].start < ct.ranges[b].start;
    });
    std::vector<CkptRange> r;
    std::vector<const float*> s;
    for (std::size_t k : idx) {
      r.push_back(ct.ranges[k]);
      s.push_back(ct.sources[k]);
    }
    ct.ranges = std::move(r);
    ct.sources = std::move(s);
  }
  if (full_cfg != nullptr && full_cfg->n_layer != m.config().n_layer)
    to_global_stage(out, m, *full_cfg);
  return out;
}

std::int64_t ckpt_adam_steps(const AdamWOptimizer* opt, const parallel::DataParallel* dp) {
  if (dp != nullptr && dp->zero() >= 1) return dp->adam_steps();
  WEFT_CHECK(opt != nullptr);
  return opt->steps_taken();
}

void ckpt_restore_optimizer(const CkptFullState& s, AdamWOptimizer* opt, parallel::DataParallel* dp,
                            model::TpShard tp, const model::GptConfig& config) {
  if (tp.size > 1) {
    WEFT_CHECK(opt != nullptr, "tensor parallel resume needs the full optimizer (ZeRO-0)");
    parallel::tp_shard_params(config, tp.size, tp.rank, s.m.data(), opt->m());
    parallel::tp_shard_params(config, tp.size, tp.rank, s.v.data(), opt->v());
    opt->set_steps_taken(s.adam_steps);
    return;
  }
  if (dp == nullptr || dp->zero() == 0) {
    WEFT_CHECK(opt != nullptr && opt->size() == s.m.size());
    std::copy(s.m.begin(), s.m.end(), opt->m());
    std::copy(s.v.begin(), s.v.end(), opt->v());
    opt->set_steps_taken(s.adam_steps);
    return;
  }
  // The ZeRO shard: every piece and tail in plan order (tails on every rank).
  const parallel::DpPlan& plan = dp->plan();
  const int rank = dp->comm().rank();
  std::size_t off = 0;
  auto take = [&](std::size_t begin, std::size_t count) {
    std::copy(s.m.data() + begin, s.m.data() + begin + count, dp->shard_m() + off);
    std::copy(s.v.data() + begin, s.v.data() + begin + count, dp->shard_v() + off);
    off += count;
  };
  for (const parallel::DpBucket& bk : plan.buckets())
    for (const parallel::DpRange& r : bk.ranges) {
      take(plan.piece_begin(r, rank), plan.piece(r));
      take(plan.tail_begin(r), r.end - plan.tail_begin(r));
    }
  WEFT_CHECK(off == plan.shard_floats());
  dp->set_adam_steps(s.adam_steps);
}

CkptFullState ckpt_stage_moments(const CkptFullState& s, const model::GptModel& stage,
                                 const model::GptConfig& full) {
  WEFT_CHECK(stage.tp().size == 1, "pipeline checkpoints need --tp 1");
  const model::ParamLayout full_layout(full);
  CkptFullState out;
  out.m.allocate(stage.layout().total());
  out.v.allocate(stage.layout().total());
  model::stage_params_from_full(full_layout, s.m.data(), stage.stage(), stage.layout(), out.m.data());
  model::stage_params_from_full(full_layout, s.v.data(), stage.stage(), stage.layout(), out.v.data());
  out.adam_steps = s.adam_steps;
  return out;
}

}  // namespace weft::train
