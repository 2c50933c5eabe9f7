// Time model (see time_model.hpp). Assumptions, stated once:
//  - ranks are numbered tp fastest, then dp, then pp (Megatron's order), so the tp group
//    sits inside a node when tp ≤ GPUs per node; the dp ring leaves the node when
//    tp·dp > GPUs per node; pipeline neighbours leave it when tp·dp·pp > GPUs per node;
//  - tp communication (sequence parallel: 2 all-gathers + 2 reduce-scatters of s·b·h per
//    layer forward, the same backward, again on a full-recompute forward) is exposed;
//  - pipeline stages send one s·b·h activation per micro-batch each way (divided by tp,
//    Narayanan's scatter/gather optimisation); the data-parallel collectives are not
//    overlapped with compute (conservative; Megatron-LM of 2021 did not overlap them).
//  - ZeRO 0/1: one gradient all-reduce per step; ZeRO 2: a reduce-scatter per micro-batch
//    and a parameter all-gather per step; ZeRO 3: per micro-batch two parameter
//    all-gathers (forward, backward) and one gradient reduce-scatter (DeepSpeed's scheme).
#include "plan/time_model.hpp"

#include "plan/comm_model.hpp"
#include "plan/memory_model.hpp"

namespace weft::plan {

double flops_per_iteration(const ModelSpec& m, int64_t batch, Recompute r) {
  const double B = static_cast<double>(batch), s = static_cast<double>(m.seq);
  const double l = static_cast<double>(m.layers), h = static_cast<double>(m.hidden);
  const double V = static_cast<double>(m.vocab);
  const double c = r == Recompute::kFull ? 96.0 : 72.0;
  double f = c * B * s * l * h * h * (1.0 + s / (6.0 * h) + V / (16.0 * l * h));
  if (r == Recompute::kSelective) f += 4.0 * B * s * s * h * l;
  return f;
}

double logits_flops(const ModelSpec& m, int64_t batch, Recompute r) {
  const double c = r == Recompute::kFull ? 96.0 : 72.0;
  return c * static_cast<double>(batch) * static_cast<double>(m.seq) * static_cast<double>(m.hidden) *
         static_cast<double>(m.vocab) / 16.0;
}

double flops_six_nd(const ModelSpec& m, double tokens) { return 6.0 * model_params(m) * tokens; }

namespace {

const LinkSpec& pick_link(const ClusterSpec& c, int64_t span) {
  return span <= c.gpus_per_node ? c.intra : c.inter;
}

}  // namespace

TimeReport time_estimate(const RunSpec& run) {
  const Layout& l = run.layout;
  const ModelSpec& md = run.model;
  const ClusterSpec& c = run.cluster;
  TimeReport t;
  const int64_t m = layout_micro_batches(l);
  t.micro_batches = m;
  const double tokens_per_step = static_cast<double>(l.global_batch * md.seq);
  if (run.flops_rule == FlopsRule::kSixND) {
    t.flops_model = flops_six_nd(md, tokens_per_step);
    t.flops_executed = t.flops_model * (l.recompute == Recompute::kFull ? 4.0 / 3.0 : 1.0);
  } else {
    t.flops_model = flops_per_iteration(md, l.global_batch, Recompute::kNone);
    t.flops_executed = flops_per_iteration(md, l.global_batch, l.recompute);
  }
  t.peak = l.mixed ? c.gpu.peak_tensor16 : c.gpu.peak_fp32;
  const double n = static_cast<double>(c.gpus);
  // The slowest pipeline stage sets the pace: the last one holds l/p layers and the whole
  // logits matmul (Narayanan's V/(16lh) term), which dominates small-h models.
  // Per GPU: (F − F_logits)/p + F_logits over the stage's n/p GPUs = (F + (p−1)·F_logits)/n.
  const double pp_extra =
      static_cast<double>(l.pp - 1) * logits_flops(md, l.global_batch, l.recompute);
  t.mb_compute = (t.flops_executed + pp_extra) / (n * static_cast<double>(m)) / (t.peak * run.mfu);

  const LinkSpec& tp_link = pick_link(c, l.tp);
  const LinkSpec& dp_link = pick_link(c, static_cast<int64_t>(l.tp) * l.dp);
  const LinkSpec& pp_link = pick_link(c, static_cast<int64_t>(l.tp) * l.dp * l.pp);
  t.tp_link = l.tp > 1 ? tp_link.name : "-";
  t.dp_link = l.dp > 1 ? dp_link.name : "-";
  t.pp_link = l.pp > 1 ? pp_link.name : "-";

  const double act_bytes = (l.mixed ? 2.0 : 4.0) * static_cast<double>(md.seq * l.micro_batch * md.hidden);
  const double layers_per_stage = static_cast<double>(md.layers / l.pp);
  if (l.tp > 1) {
    // 4 gathers/scatters forward + 4 backward (+4 when the forward is recomputed).
    const double per_layer_ops = l.recompute == Recompute::kFull ? 12.0 : 8.0;
    t.mb_tp_comm = layers_per_stage * per_layer_ops * comm_allgather_s(l.tp, act_bytes, tp_link);
  }
  if (l.pp > 1) t.mb_pp_comm = 2.0 * comm_p2p_s(act_bytes / l.tp, pp_link);

  const double per_mb = t.mb_compute + t.mb_tp_comm + t.mb_pp_comm;
  t.pipeline = static_cast<double>(m + l.pp - 1) * per_mb;
  t.bubble = static_cast<double>(l.pp - 1) * per_mb;
  t.bubble_fraction = static_cast<double>(l.pp - 1) / static_cast<double>(m + l.pp - 1);

  const double psi = params_per_gpu(md, l);
  const double word = l.mixed ? 2.0 : 4.0;
  const double grad_bytes = psi * word, param_bytes = psi * word;
  const double md_ = static_cast<double>(m);
  switch (l.zero) {
    case 0:
    case 1: t.dp_comm = comm_allreduce_s(l.dp, grad_bytes, dp_link); break;
    case 2:
      t.dp_comm = md_ * comm_reduce_scatter_s(l.dp, grad_bytes, dp_link) +
                  comm_allgather_s(l.dp, param_bytes, dp_link);
      break;
    default:
      t.dp_comm = md_ * (2.0 * comm_allgather_s(l.dp, param_bytes, dp_link) +
                         comm_reduce_scatter_s(l.dp, grad_bytes, dp_link));
      break;
  }
  // AdamW touches, per local parameter: mixed 4+4+4 (master, m, v) read+write, grad read,
  // 16-bit param write = 28 bytes; fp32: 4+4+4 read+write + grad read = 28 bytes too.
  const double opt_params = l.zero >= 1 ? psi / l.dp : psi;
  t.optimizer = 28.0 * opt_params / c.gpu.mem_bandwidth;

  t.step = t.pipeline + t.dp_comm + t.optimizer;
  t.steps = run.tokens / tokens_per_step;
  t.seconds = t.steps * t.step;
  t.days = t.seconds / 86400.0;
  t.gpu_hours = t.seconds / 3600.0 * n;
  t.cost = t.gpu_hours * c.price_per_gpu_hour;
  t.tflops_per_gpu = t.flops_executed / t.step / n;
  t.mfu_achieved = t.flops_model / (t.step * n * t.peak);
  return t;
}

}  // namespace weft::plan
