// Time model (see time_model.hpp). Assumptions, stated once (docs/plan.md cites them):
//  - ranks are numbered tp fastest, then dp, then pp (Megatron's order), so the tp group
//    sits inside a node when tp ≤ GPUs per node; the dp ring leaves the node when
//    tp·dp > GPUs per node; pipeline neighbours leave it when tp·dp·pp > GPUs per node;
//  - tp communication is exposed (Megatron-LM runs it in the compute stream). Per layer
//    and micro-batch: 2 all-reduces of s·b·h forward, 2 backward, 2 more on a full-
//    recompute forward (Megatron-LM mpu/layers.py: row-parallel output, column-parallel
//    input gradient). Sequence parallelism replaces each all-reduce by an all-gather and a
//    reduce-scatter, the same ring cost, so one formula serves both. Outside the layers:
//    the vocab-parallel embedding's forward all-reduce (first stage), the LM head's input-
//    gradient all-reduce (last stage) and the cross entropy's 3 all-reduces of s·b floats;
//  - pipeline stages send one s·b·h activation per micro-batch each way and per model chunk
//    (v per device when interleaved), divided by tp (Narayanan's scatter/gather: each tp
//    rank sends 1/t over its own NIC, the receiver all-gathers it over the intra-node link);
//  - ZeRO 0/1: one gradient all-reduce per step, after the backward (Megatron-LM's local
//    DDP of 2021), or overlapped with the last micro-batch's backward with dp_overlap
//    (PyTorch DDP: buckets of 25 MB; the last bucket stays exposed); ZeRO 2: a
//    reduce-scatter per micro-batch and a parameter all-gather per step; ZeRO 3: per
//    micro-batch two parameter all-gathers (forward, backward) and one gradient
//    reduce-scatter (DeepSpeed's scheme). With pp > 1 the tied word embeddings' gradient is
//    all-reduced between the first and the last stage once per step.
#include "plan/time_model.hpp"

#include <algorithm>

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

  const double word = l.mixed ? 2.0 : 4.0;
  const double sb = static_cast<double>(md.seq * l.micro_batch);
  const double act_bytes = word * sb * static_cast<double>(md.hidden);
  const double layers_per_stage = static_cast<double>(md.layers / l.pp);
  if (l.tp > 1) {
    const double per_layer = l.recompute == Recompute::kFull ? 6.0 : 4.0;
    // The slowest (last) stage: its layers, the LM head's all-reduce and, when it is also
    // the first stage (pp = 1), the embedding's; plus the cross entropy's small ones.
    const double outside = l.pp == 1 ? 2.0 : 1.0;
    t.mb_tp_comm = (layers_per_stage * per_layer + outside) * comm_allreduce_s(l.tp, act_bytes, tp_link) +
                   3.0 * comm_allreduce_s(l.tp, 4.0 * sb, tp_link);
  }
  const bool interleaved = l.schedule == Schedule::kInterleaved;
  const double v = interleaved ? static_cast<double>(l.virtual_stages) : 1.0;
  if (l.pp > 1) {
    const double gather = comm_allgather_s(l.tp, act_bytes, tp_link);  // zero when tp == 1
    t.mb_pp_comm = v * 2.0 * (comm_p2p_s(act_bytes / l.tp, pp_link) + gather);
  }

  const double per_mb = t.mb_compute + t.mb_tp_comm + t.mb_pp_comm;
  const double fill = static_cast<double>(l.pp - 1) / v;  // bubble in micro-batch times
  t.pipeline = (static_cast<double>(m) + fill) * per_mb;
  t.bubble = fill * per_mb;
  t.bubble_fraction = fill / (static_cast<double>(m) + fill);

  const double psi = params_per_gpu(md, l);
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
  if (l.dp_overlap && l.zero <= 1 && l.dp > 1) {
    // Backward share of a micro-batch: 2 of 3 FLOP units, 3 of 4 with the recomputed forward.
    const double backward = t.mb_compute * (l.recompute == Recompute::kFull ? 0.75 : 2.0 / 3.0);
    const double last_bucket = comm_allreduce_s(l.dp, std::min(grad_bytes, 25e6), dp_link);
    const double exposed = std::max(t.dp_comm - backward, last_bucket);
    t.dp_comm_hidden = t.dp_comm - exposed;
    t.dp_comm = exposed;
  }
  if (l.pp > 1) {
    // Word embeddings (V/t · h) are tied between the first and the last stage.
    const double embed_bytes = word * static_cast<double>(md.vocab * md.hidden) / l.tp;
    t.embedding_comm = comm_allreduce_s(2, embed_bytes, pp_link);
  }
  // AdamW touches, per local parameter: mixed 4+4+4 (master, m, v) read+write, grad read,
  // 16-bit param write = 28 bytes; fp32: 4+4+4 read+write + grad read = 28 bytes too.
  const double opt_params = l.zero >= 1 ? psi / l.dp : psi;
  t.optimizer = 28.0 * opt_params / c.gpu.mem_bandwidth;

  t.step = t.pipeline + t.dp_comm + t.embedding_comm + t.optimizer;
  t.steps = run.tokens / tokens_per_step;
  t.seconds = t.steps * t.step;
  t.days = t.seconds / 86400.0;
  t.gpu_hours = t.seconds / 3600.0 * n;
  t.cost = t.gpu_hours * c.price_per_gpu_hour;
  t.tflops_per_gpu = t.flops_executed / t.step / n;
  t.mfu_achieved = t.flops_model / (t.step * n * t.peak);
  t.hfu_achieved = t.flops_executed / (t.step * n * t.peak);
  return t;
}

}  // namespace weft::plan
