// Which pieces of the global tensors a rank holds under its layout, and putting a
// full optimizer state back into a layout's slices. The one place that knows the DP
// owner rule (parallel/dp_plan.hpp); TP/PP come from train/ckpt_map.hpp. See
// checkpoint.hpp.
#include <algorithm>

#include "core/error.hpp"
#include "parallel/data_parallel.hpp"
#include "train/checkpoint.hpp"
#include "train/ckpt_map.hpp"

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

}  // namespace

std::vector<CkptTensor> ckpt_rank_tensors(const model::GptModel& m, AdamWOptimizer* opt,
                                          parallel::DataParallel* dp,
                                          const model::GptConfig& full_cfg) {
  if (dp != nullptr) dp->wait_param_gathers();  // ZeRO-1/2: the step's all-gather may be in flight
  const int rank = dp != nullptr ? dp->comm().rank() : 0;  // ownership follows the dp axis
  const bool sharded_opt = dp != nullptr && dp->zero() >= 1;
  WEFT_CHECK(sharded_opt || opt != nullptr, "checkpoint without an optimizer");
  const float* mom[2] = {sharded_opt ? dp->shard_m() : opt->m(),
                         sharded_opt ? dp->shard_v() : opt->v()};
  const CkptMap map(m, full_cfg);
  // group 0 = params, 1 = adam_m, 2 = adam_v; per tensor index; global names and shapes.
  std::vector<CkptTensor> out(3 * model::kNumParamTensors);
  const char* groups[3] = {"params/", "adam_m/", "adam_v/"};
  for (int g = 0; g < 3; ++g)
    for (int i = 0; i < model::kNumParamTensors; ++i) {
      const model::ParamTensor& t = map.full_layout().tensors()[static_cast<std::size_t>(i)];
      CkptTensor& ct = out[static_cast<std::size_t>(g * model::kNumParamTensors + i)];
      ct.name = groups[g] + t.name;
      ct.shape.assign(t.shape.begin(), t.shape.end());
    }
  for (const Piece& p : owned_pieces(m, dp, rank))
    for (const CkptRun& r : map.runs(p.begin, p.count, /*writer_only=*/true)) {
      const std::size_t mo = sharded_opt ? p.shard_off + (r.local - p.begin) : r.local;
      const float* src[3] = {m.params() + r.local, mom[0] + mo, mom[1] + mo};
      for (int g = 0; g < 3; ++g) {
        CkptTensor& ct = out[static_cast<std::size_t>(g * model::kNumParamTensors + r.tensor)];
        ct.ranges.push_back({r.global, r.count});
        ct.sources.push_back(src[g]);
      }
    }
  for (CkptTensor& ct : out) {  // ascending ranges (the plan walks backward order), merged
    std::vector<std::size_t> idx(ct.ranges.size());
    for (std::size_t k = 0; k < idx.size(); ++k) idx[k] = k;
    std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
      return ct.ranges[a].start < ct.ranges[b].start;
    });
    std::vector<CkptRange> r;
    std::vector<const float*> s;
    for (std::size_t k : idx) {
      const CkptRange& c = ct.ranges[k];
      if (!r.empty() && r.back().start + r.back().count == c.start &&
          s.back() + r.back().count == ct.sources[k]) {
        r.back().count += c.count;
        continue;
      }
      r.push_back(c);
      s.push_back(ct.sources[k]);
    }
    ct.ranges = std::move(r);
    ct.sources = std::move(s);
  }
  return out;
}

std::int64_t ckpt_adam_steps(const AdamWOptimizer* opt, const parallel::DataParallel* dp) {
  if (dp != nullptr && dp->zero() >= 1) return dp->adam_steps();
  WEFT_CHECK(opt != nullptr);
  return opt->steps_taken();
}

void ckpt_restore_optimizer(const CkptFullState& s, const model::GptModel& m,
                            const model::GptConfig& full, AdamWOptimizer* opt,
                            parallel::DataParallel* dp) {
  // The rank's (stage, tp shard) slice of the global moments, in its flat layout.
  const CkptMap map(m, full);
  const std::size_t n = m.layout().total();
  AlignedBuffer<float> lm, lv;
  const float* sm = s.m.data();
  const float* sv = s.v.data();
  if (n != s.m.size() || m.tp().size > 1) {
    lm.allocate(n);
    lv.allocate(n);
    map.local_from_global(s.m.data(), lm.data());
    map.local_from_global(s.v.data(), lv.data());
    sm = lm.data();
    sv = lv.data();
  }
  if (dp == nullptr || dp->zero() == 0) {
    WEFT_CHECK(opt != nullptr && opt->size() == n);
    std::copy(sm, sm + n, opt->m());
    std::copy(sv, sv + n, opt->v());
    opt->set_steps_taken(s.adam_steps);
    return;
  }
  // The ZeRO shard: every piece and tail in plan order (tails on every rank).
  const parallel::DpPlan& plan = dp->plan();
  const int rank = dp->comm().rank();
  std::size_t off = 0;
  auto take = [&](std::size_t begin, std::size_t count) {
    std::copy(sm + begin, sm + begin + count, dp->shard_m() + off);
    std::copy(sv + begin, sv + begin + count, dp->shard_v() + off);
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

}  // namespace weft::train
