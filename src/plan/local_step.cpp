// weft's step on local ranks, op by op (see local_step.hpp). Where the counts come from:
//  - sgemms: model/gpt_model.cpp (matmul_forward = "nt" (n, OC, C); matmul_backward =
//    "nn" (n, C, OC) for d input and "tn" (OC, C, n) for d weight), the tied LM head on
//    the last stage, kernels/cpu/attention.cpp (blocks of 64 query rows per (batch, head)).
//  - memory-bound bytes per token of one block, fp32 (C channels, Cs = C/t of the shard):
//    forward: 2 layernorms 2·8C, bias rows copied before 4 sgemms 4·(7Cs + 2C), 2 residual
//    adds 2·12C, GELU 2·4·4Cs, softmax rows 8·(a/t)·T;  backward: 4 bias-gradient reads
//    4·(7Cs + 2C), GELU 3·4·4Cs, 2 layernorm backward-adds 2·16C, softmax 12·(a/t)·T;
//    total 88C + 136Cs + 20·(a/t)·T.
//  - tp (no sequence parallelism in weft): per block 2 all-reduces of the (n, C) output
//    forward and 2 of d input backward; one each for the embedding and the LM head.
//  - pp: one (n, C) activation each way per micro-batch; the tied wte gradient goes from
//    the last stage to the first and wte back after the update (train/pipeline_step.cpp).
//  - dp: parallel/data_parallel.cpp per ZeRO stage (local_dp_traffic, checked against
//    parallel/comm_volume.cpp's formula), --zero-release page faults (local_fault_bytes).
#include "plan/local_step.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "plan/comm_model.hpp"

namespace weft::plan {

namespace {

struct Shard {
  int64_t n, C, Cs, NHs, hs, Vs, T, Ls;
  bool first, last;
};

Shard shard_of(const LocalRun& r, int stage) {
  const ModelSpec& m = r.model;
  Shard s;
  s.T = m.seq;
  s.n = r.micro_batch * m.seq;
  s.C = m.hidden;
  s.Cs = m.hidden / r.tp;
  s.NHs = m.heads / r.tp;
  s.hs = m.hidden / m.heads;
  s.Vs = m.vocab / r.tp;
  s.Ls = m.layers / r.pp;
  s.first = stage == 0;
  s.last = stage == r.pp - 1;
  return s;
}

// A linear layer y (n, OC) = x (n, IC) · Wᵀ: forward and both backward sgemms.
void add_linear(std::vector<GemmCall>& out, int64_t n, int64_t IC, int64_t OC, double count) {
  out.push_back({n, OC, IC, "nt", count, false});
  out.push_back({n, IC, OC, "nn", count, false});
  out.push_back({OC, IC, n, "tn", count, false});
}

double tp_allreduce_s(const LocalRun& r, double bytes, const LinkSpec& link, bool cpu) {
  if (r.tp <= 1) return 0.0;
  const double k = static_cast<double>(r.tp - 1);
  // CPU clock: only the copies cost CPU, waiting for the peer does not.
  return cpu ? 2.0 * k / r.tp * bytes / link.bandwidth : comm_allreduce_s(r.tp, bytes, link);
}

}  // namespace

int local_ranks(const LocalRun& r) { return r.dp * r.tp * r.pp; }

int64_t local_micro_batches(const LocalRun& r) {
  return r.global_batch / (static_cast<int64_t>(r.dp) * r.micro_batch);
}

void local_validate(const LocalRun& r) {
  model_validate(r.model);
  if (r.dp < 1 || r.tp < 1 || r.pp < 1)
    throw config_error(str("dp, tp, pp must be >= 1 (got ", r.dp, ", ", r.tp, ", ", r.pp, ")"));
  if (r.threads_per_rank < 1) throw config_error("threads per rank must be >= 1");
  if (r.model.heads % r.tp != 0)
    throw config_error(str("heads ", r.model.heads, " not divisible by tp ", r.tp));
  if (r.model.vocab % r.tp != 0)
    throw config_error(str("vocab ", r.model.vocab, " not divisible by tp ", r.tp));
  if (r.model.layers % r.pp != 0)
    throw config_error(str("layers ", r.model.layers, " not divisible by pp ", r.pp));
  if (r.micro_batch < 1 || r.global_batch % (static_cast<int64_t>(r.dp) * r.micro_batch) != 0)
    throw config_error(str("global batch ", r.global_batch, " is not a multiple of dp·micro-batch = ",
                           static_cast<int64_t>(r.dp) * r.micro_batch));
  if (r.zero < 0 || r.zero > 3) throw config_error(str("ZeRO stage ", r.zero, " is not 0-3"));
  if (r.zero_release != "none" && r.zero_release != "grads" && r.zero_release != "all")
    throw config_error(str("--zero-release '", r.zero_release, "': expected none, grads or all"));
  if (r.zero == 3 && (r.tp > 1 || r.pp > 1))
    throw config_error("ZeRO-3 runs with tp = pp = 1 only (weft refuses it with tp or pp)");
}

std::vector<GemmCall> local_stage_gemms(const LocalRun& r, int stage) {
  const Shard s = shard_of(r, stage);
  std::vector<GemmCall> g;
  const double L = static_cast<double>(s.Ls);
  add_linear(g, s.n, s.C, 3 * s.Cs, L);   // qkv (column-parallel)
  add_linear(g, s.n, s.Cs, s.C, L);       // attention projection (row-parallel)
  add_linear(g, s.n, s.C, 4 * s.Cs, L);   // MLP up
  add_linear(g, s.n, 4 * s.Cs, s.C, L);   // MLP down
  if (s.last) add_linear(g, s.n, s.C, s.Vs, 1.0);  // tied LM head (logits)
  // Attention: per (batch row, head) and block of 64 query rows [r0, r1).
  const double per_block = static_cast<double>(r.micro_batch * s.NHs) * L;
  for (int64_t r0 = 0; r0 < s.T; r0 += 64) {
    const int64_t r1 = std::min(r0 + 64, s.T), rows = r1 - r0;
    g.push_back({rows, r1, s.hs, "nt", per_block, true});  // scores = q·kᵀ
    g.push_back({rows, s.hs, r1, "nn", per_block, true});  // out = P·v
    g.push_back({r1, s.hs, rows, "tn", per_block, true});  // dv += Pᵀ·dout
    g.push_back({rows, r1, s.hs, "nt", per_block, true});  // dP = dout·vᵀ
    g.push_back({rows, s.hs, r1, "nn", per_block, true});  // dq = dS·k
    g.push_back({r1, s.hs, rows, "tn", per_block, true});  // dk += dSᵀ·q
  }
  return g;
}

double local_block_bytes_per_token(int64_t C, int64_t Cs, int64_t heads_shard, int64_t T) {
  return 88.0 * static_cast<double>(C) + 136.0 * static_cast<double>(Cs) +
         20.0 * static_cast<double>(heads_shard) * static_cast<double>(T);
}

StageBytes local_stage_bytes(const LocalRun& r, int stage) {
  const Shard s = shard_of(r, stage);
  const double n = static_cast<double>(s.n), C = static_cast<double>(s.C);
  StageBytes b;
  b.layer = n * static_cast<double>(s.Ls) * local_block_bytes_per_token(s.C, s.Cs, s.NHs, s.T);
  if (s.last) {
    b.layer += n * 20.0 * C;  // final layernorm forward 8C + backward 12C
    b.classifier = n * 20.0 * static_cast<double>(s.Vs);  // max, exp+sum, gradient passes
  }
  if (s.first) b.layer += n * 32.0 * C;  // embedding forward 12C + backward 20C
  return b;
}

double local_stage_params(const LocalRun& r, int stage) {
  const Shard s = shard_of(r, stage);
  const double C = static_cast<double>(s.C), Cs = static_cast<double>(s.Cs);
  return static_cast<double>(s.Ls) * (12.0 * C * Cs + 7.0 * Cs + 6.0 * C) +
         static_cast<double>(s.Vs) * C + static_cast<double>(s.T) * C + 2.0 * C;
}

double local_optimizer_bytes(const LocalRun& r, int stage) {
  const Shard s = shard_of(r, stage);
  const double psi = local_stage_params(r, stage), dp = static_cast<double>(r.dp);
  // ZeRO-0 under pp: the last stage leaves its copy of wte to the first (pipeline_step.cpp).
  const double copy = (r.zero == 0 && s.last && !s.first) ? static_cast<double>(s.Vs * s.C) : 0.0;
  const double updated = r.zero >= 1 ? psi / dp : psi - copy;
  const double normed = r.zero >= 1 ? psi / dp : psi;
  const double zeroed = r.zero >= 2 ? psi / dp : psi;
  return 28.0 * updated + 4.0 * normed + 4.0 * zeroed;
}

double DpTraffic::bytes(int64_t micro_batches) const {
  return allreduce + reduce_scatter + allgather_step +
         static_cast<double>(micro_batches) * allgather_micro;
}

DpTraffic local_dp_traffic(const LocalRun& r, int stage) {
  DpTraffic t;
  if (r.dp <= 1) return t;
  const double psi = 4.0 * local_stage_params(r, stage);
  if (r.zero == 0) {
    t.allreduce = psi;
  } else if (r.zero <= 2) {
    t.reduce_scatter = psi;
    t.allgather_step = psi;
  } else {  // tp = pp = 1 (local_validate): the whole model is one stage
    const Shard s = shard_of(r, stage);
    const double C = static_cast<double>(s.C);
    const double embedding = 4.0 * (static_cast<double>(s.Vs) + static_cast<double>(s.T)) * C;
    const double head = 4.0 * 2.0 * C;
    const double blocks = psi - embedding - head;
    t.reduce_scatter = psi;
    t.allgather_micro = 3.0 * embedding + 2.0 * head + 2.0 * blocks;
    t.gathers_micro = 3 + 2 + 2 * static_cast<int>(s.Ls);
  }
  return t;
}

FaultBytes local_fault_bytes(const LocalRun& r, int stage) {
  FaultBytes f;
  if (r.dp <= 1 || r.zero < 2 || r.zero_release == "none") return f;
  const double away = static_cast<double>(r.dp - 1) / r.dp;
  f.step = away * 4.0 * local_stage_params(r, stage);
  if (r.zero == 3 && r.zero_release == "all") f.micro = away * local_dp_traffic(r, stage).allgather_micro;
  return f;
}

LocalStepReport local_step_estimate(const LocalRun& r, const Rates& rates, bool cpu) {
  local_validate(r);
  if (!rates.has_compute) throw input_error("rates: no compute section (run weft plan --calibrate)");
  const ComputeRates& c = rates.compute;
  const int ranks = local_ranks(r), th = r.threads_per_rank;
  const LinkSpec link = rates_link(rates, /*inter=*/false);  // every local rank shares the host
  LocalStepReport rep;
  rep.link = link.name;
  rep.micro_batches = local_micro_batches(r);
  const double m = static_cast<double>(rep.micro_batches);
  const double act_bytes = 4.0 * static_cast<double>(r.micro_batch * r.model.seq * r.model.hidden);
  double max_mb = 0, sum_mb = 0, busy_cpu = 0;
  for (int st = 0; st < r.pp; ++st) {
    const Shard s = shard_of(r, st);
    StageTime t;
    for (const GemmCall& g : local_stage_gemms(r, st)) {
      const double flops = 2.0 * static_cast<double>(g.m * g.n * g.k) * g.count;
      rep.flops += flops * m * r.dp * r.tp;  // m micro-batches on every rank of the stage
      if (g.attention) {  // one thread per call, `th` calls at once
        const double one = rates_gemm_seconds(c, g.m, g.n, g.k, g.op, 1, ranks * th, cpu);
        t.attention_s += one * g.count / (cpu ? 1.0 : std::min<double>(th, r.micro_batch * s.NHs));
      } else {
        t.gemm_s += rates_gemm_seconds(c, g.m, g.n, g.k, g.op, th, ranks, cpu) * g.count;
      }
    }
    const StageBytes b = local_stage_bytes(r, st);
    t.memory_s = b.layer / rates_kernel_bandwidth(c, "layer", s.n * s.C, th, ranks, cpu);
    if (b.classifier > 0)
      t.memory_s += b.classifier / rates_kernel_bandwidth(c, "classifier", s.n * s.Vs, th, ranks, cpu);
    const double n_allreduce = 4.0 * static_cast<double>(s.Ls) + (s.first ? 1 : 0) + (s.last ? 1 : 0);
    t.tp_comm_s = n_allreduce * tp_allreduce_s(r, act_bytes, link, cpu);
    if (s.last) t.tp_comm_s += tp_allreduce_s(r, 8.0 * s.n, link, cpu) + tp_allreduce_s(r, 16.0 * s.n, link, cpu);
    if (r.pp > 1) {
      const double sends = (s.first || s.last) ? 1.0 : 2.0;  // per direction, this stage's edges
      t.pp_comm_s = sends * (cpu ? act_bytes / link.bandwidth : comm_p2p_s(act_bytes, link));
    }
    const DpTraffic dpt = local_dp_traffic(r, st);
    if (dpt.gathers_micro > 0) {  // ZeRO-3: each unit gathered where it is used
      const double k = static_cast<double>(r.dp - 1);
      t.zero_gather_s = cpu ? k / r.dp * dpt.allgather_micro / link.bandwidth
                            : comm_allgather_s(r.dp, dpt.allgather_micro, link) +
                                  (dpt.gathers_micro - 1) * k * link.latency;
    }
    const FaultBytes fb = local_fault_bytes(r, st);
    const int64_t release_elems = static_cast<int64_t>(std::min(fb.step / 4.0, 16.0 * (1 << 20)));
    if (fb.micro > 0) {
      t.fault_s = fb.micro / rates_kernel_bandwidth(c, "fault", release_elems, th, ranks, cpu);
      t.zero_gather_s += t.fault_s;
    }
    t.micro_batch_s =
        t.gemm_s + t.attention_s + t.memory_s + t.tp_comm_s + t.pp_comm_s + t.zero_gather_s;
    if (fb.step > 0)
      rep.fault_s = std::max(
          rep.fault_s, fb.step / rates_kernel_bandwidth(c, "fault", release_elems, th, ranks, cpu));
    const double params = local_stage_params(r, st) / (r.zero >= 1 ? r.dp : 1);
    const int64_t opt_elems = static_cast<int64_t>(std::min(params, 16.0 * (1 << 20)));
    const double opt_gbs = rates_kernel_bandwidth(c, "adamw", opt_elems, th, ranks, cpu);
    t.optimizer_s = local_optimizer_bytes(r, st) / opt_gbs;
    rep.optimizer_s = std::max(rep.optimizer_s, t.optimizer_s);
    max_mb = std::max(max_mb, t.micro_batch_s);
    sum_mb += t.micro_batch_s;
    busy_cpu += static_cast<double>(r.dp * r.tp) * (m * t.micro_batch_s + t.optimizer_s);
    // The dp messages of the busiest stage (every stage holds wte: first and last tie).
    if (dpt.bytes(rep.micro_batches) > rep.dp_bytes) {
      rep.dp_bytes = dpt.bytes(rep.micro_batches);
      const double k = static_cast<double>(r.dp - 1);
      rep.dp_comm_s =
          cpu ? (2.0 * dpt.allreduce + dpt.reduce_scatter + dpt.allgather_step) * k / r.dp /
                    link.bandwidth
              : (dpt.allreduce > 0 ? comm_allreduce_s(r.dp, dpt.allreduce, link) : 0.0) +
                    (dpt.reduce_scatter > 0 ? comm_reduce_scatter_s(r.dp, dpt.reduce_scatter, link) : 0.0) +
                    (dpt.allgather_step > 0 ? comm_allgather_s(r.dp, dpt.allgather_step, link) : 0.0);
    }
    if (r.pp > 1 && s.first) {
      // The tied wte: sent last → first (gradient) and back (weights); the last stage
      // zeroes its gradient copy (4 bytes per element), the first adds the received one
      // into its own (12), at the streaming (adamw) bandwidth.
      const double wte = static_cast<double>(s.Vs * s.C);
      rep.wte_sync_s = 2.0 * (cpu ? 4.0 * wte / link.bandwidth : comm_p2p_s(4.0 * wte, link)) +
                       16.0 * wte / opt_gbs;
    }
    rep.stages.push_back(t);
  }
  rep.pipeline_s = m * max_mb + (sum_mb - max_mb);
  rep.step_s = rep.pipeline_s + rep.wte_sync_s + rep.dp_comm_s + rep.optimizer_s + rep.fault_s;
  if (cpu)
    rep.cpu_s = busy_cpu + static_cast<double>(r.tp * r.pp * r.dp) *
                               (rep.wte_sync_s / r.pp + rep.dp_comm_s + rep.fault_s);
  return rep;
}

}  // namespace weft::plan
