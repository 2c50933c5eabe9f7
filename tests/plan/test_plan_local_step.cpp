// The local step model (weft's own step on local ranks): its sgemm FLOPs against
// Narayanan et al.'s closed form, its memory-bound bytes against an op-by-op count of
// gpt_model.cpp's kernels, and predictions that move the right way when rates change.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "model/gpt_config.hpp"
#include "parallel/comm_volume.hpp"
#include "plan/local_step.hpp"

namespace weft::plan {
namespace {

ModelSpec tiny() { return {"tiny", 2, 8, 2, 32, 4}; }  // L=2, C=8, a=2, V=32, T=4

// Every shape lookup answers `gflops`; kernels answer their own GB/s.
Rates uniform(double gflops, double layer_gbs, double classifier_gbs, double adamw_gbs,
              double fault_gbs = 2) {
  Rates r;
  r.has_compute = true;
  for (int t : {1, 2})
    for (int q : {1, 2, 4})
      r.compute.gemm.push_back({64, 64, 64, "nt", t, q, gflops * t, gflops});
  for (int t : {1, 2})
    for (int q : {1, 2, 4}) {
      r.compute.kernels.push_back({"layer", 1000, t, q, layer_gbs * t, layer_gbs});
      r.compute.kernels.push_back({"classifier", 1000, t, q, classifier_gbs * t, classifier_gbs});
      r.compute.kernels.push_back({"adamw", 1000, t, q, adamw_gbs * t, adamw_gbs});
      r.compute.kernels.push_back({"fault", 1000, t, q, fault_gbs * t, fault_gbs});
    }
  r.has_intra = true;
  r.intra_host = {1e-5, 1e-9};  // 10 µs, 1 GB/s
  return r;
}

LocalRun run_of(ModelSpec m, int dp, int tp, int pp, int64_t b, int64_t B) {
  LocalRun r;
  r.model = m;
  r.dp = dp;
  r.tp = tp;
  r.pp = pp;
  r.micro_batch = b;
  r.global_batch = B;
  return r;
}

TEST(PlanLocalStep, SgemmFlopsMatchNarayanansCountForShortSequences) {
  // T <= 64: weft's attention runs one full T×T block per head, so the sgemm FLOPs of a
  // step are 72·B·T·L·C²·(1 + T/(6C)) (layers + attention core, forward + backward) plus
  // 6·B·T·C·V for the tied LM head (forward, d input, d weight).
  for (const ModelSpec& m : {tiny(), ModelSpec{"d6", 6, 384, 6, 50304, 64}}) {
    for (const auto& [dp, tp, pp, b, B] : {std::tuple{1, 1, 1, 4, 4}, std::tuple{2, 1, 1, 2, 4},
                                           std::tuple{1, 2, 1, 4, 4}, std::tuple{1, 1, 2, 2, 4}}) {
      const LocalRun r = run_of(m, dp, tp, pp, b, B);
      const LocalStepReport rep = local_step_estimate(r, uniform(10, 1, 1, 1), false);
      const double Bd = static_cast<double>(B), T = static_cast<double>(m.seq);
      const double L = static_cast<double>(m.layers), C = static_cast<double>(m.hidden);
      const double expect = 72.0 * Bd * T * L * C * C * (1.0 + T / (6.0 * C)) +
                            6.0 * Bd * T * C * static_cast<double>(m.vocab);
      EXPECT_NEAR(rep.flops / expect, 1.0, 1e-12) << m.name << " dp" << dp << " tp" << tp << " pp" << pp;
    }
  }
}

// Bytes per token of one block, listed op by op in gpt_model.cpp's order (floats read +
// written; the layernorms' per-row mean/rstd are left out, as in the model).
double block_bytes_by_op(double C, double Cs, double heads, double T) {
  double f = 0;
  f += 2 * C;           // ln1: read x, write
  f += 3 * Cs;          // qkv bias rows copied into the output
  f += 2 * heads * T;   // softmax: write + read one score row per head
  f += C;               // attention projection bias rows
  f += 3 * C;           // residual add: read 2, write 1
  f += 2 * C;           // ln2
  f += 4 * Cs;          // fc bias rows
  f += 8 * Cs;          // GELU: read 4Cs, write 4Cs
  f += C;               // fcproj bias rows
  f += 3 * C;           // residual add
  // backward
  f += C;               // fcproj bias gradient reads dout
  f += 12 * Cs;         // GELU backward: read dout, inp, write dinp (4Cs each)
  f += 4 * Cs;          // fc bias gradient
  f += 4 * C;           // ln2 backward-add: read dout, inp, read + write dinp
  f += C;               // attention projection bias gradient
  f += 3 * heads * T;   // softmax backward: read P, dP, write dS
  f += 3 * Cs;          // qkv bias gradient
  f += 4 * C;           // ln1 backward-add
  return 4.0 * f;
}

TEST(PlanLocalStep, MemoryBoundTermMatchesAnOpByOpCount) {
  const ModelSpec m = tiny();
  for (int tp : {1, 2}) {
    const double C = 8, Cs = C / tp, heads = 2.0 / tp, T = 4, n = 3 * T;  // b = 3
    EXPECT_DOUBLE_EQ(local_block_bytes_per_token(8, 8 / tp, 2 / tp, 4), block_bytes_by_op(C, Cs, heads, T));
    const LocalRun r = run_of(m, 1, tp, 1, 3, 3);
    const StageBytes b = local_stage_bytes(r, 0);
    // 2 blocks + final layernorm (read, write; backward read 2, write 1 = 5 floats) +
    // embedding (read wte row, wpe row, write; backward read dout, read+write 2 rows = 8).
    const double layer = n * (2 * block_bytes_by_op(C, Cs, heads, T) + 4 * 5 * C + 4 * 3 * C + 4 * 5 * C);
    EXPECT_DOUBLE_EQ(b.layer, layer);
    // Cross-entropy over this rank's V/t logits: max (read), exp + sum (read, write),
    // gradient (read, write) = 5 floats per logit.
    EXPECT_DOUBLE_EQ(b.classifier, n * 4 * 5 * (32.0 / tp));
    // Priced at the given bandwidths: bytes / (GB/s).
    const LocalStepReport rep = local_step_estimate(r, uniform(10, 2, 4, 8), false);
    EXPECT_NEAR(rep.stages[0].memory_s, layer / 2e9 + b.classifier / 4e9, 1e-15);
    // Optimizer: 36 bytes per parameter the rank updates.
    EXPECT_NEAR(rep.optimizer_s, 36.0 * local_stage_params(r, 0) / 8e9, 1e-15);
  }
  // Pipeline stages split the bytes: the first has the embedding, the last the head.
  const LocalRun p = run_of(m, 1, 1, 2, 3, 3);
  const double n = 12, C = 8;
  EXPECT_DOUBLE_EQ(local_stage_bytes(p, 0).layer, n * (block_bytes_by_op(C, C, 2, 4) + 4 * 8 * C));
  EXPECT_DOUBLE_EQ(local_stage_bytes(p, 0).classifier, 0.0);
  EXPECT_DOUBLE_EQ(local_stage_bytes(p, 1).layer, n * (block_bytes_by_op(C, C, 2, 4) + 4 * 5 * C));
}

model::GptConfig config_of(const ModelSpec& m) {
  model::GptConfig c;
  c.n_layer = static_cast<int>(m.layers);
  c.n_head = static_cast<int>(m.heads);
  c.n_embd = static_cast<int>(m.hidden);
  c.vocab = c.padded_vocab = static_cast<int>(m.vocab);
  c.max_seq = static_cast<int>(m.seq);  // the plan's wpe has T rows
  return c;
}

TEST(PlanLocalStep, StageParamsAreTheFlatBufferParallelCounts) {
  // One rank holds every parameter (model_params counts wpe for T positions, as here).
  const ModelSpec m{"d6", 6, 384, 6, 50304, 64};
  EXPECT_NEAR(local_stage_params(run_of(m, 1, 1, 1, 1, 1), 0) / model_params(m), 1.0, 1e-12);
  // Every stage's buffer holds wte, wpe and lnf (parallel/comm_volume.hpp's Ψ, which the
  // GridCommBytes tests check against the bytes weft's communicators move).
  for (int tp : {1, 2})
    for (int pp : {1, 2, 3}) {
      const LocalRun r = run_of(m, 1, tp, pp, 1, 1);
      for (int st = 0; st < pp; ++st)
        EXPECT_DOUBLE_EQ(local_stage_params(r, st),
                         static_cast<double>(parallel::comm_shard_params(config_of(m), 6 / pp, tp)))
            << "tp " << tp << " pp " << pp << " stage " << st;
    }
}

TEST(PlanLocalStep, DpBytesEqualParallelCommVolumeForEveryZeroStage) {
  const ModelSpec m{"d6", 6, 384, 6, 50304, 64};
  struct Case {
    int dp, tp, pp, zero;
    int64_t b, B;
  };
  const Case cases[] = {{2, 1, 1, 0, 2, 4}, {2, 1, 1, 1, 2, 4}, {2, 1, 1, 2, 2, 4}, {2, 1, 1, 3, 2, 4},
                        {4, 1, 1, 3, 1, 8}, {2, 2, 1, 1, 2, 4}, {2, 1, 2, 0, 1, 4}, {2, 1, 2, 2, 1, 4},
                        {2, 2, 2, 1, 1, 8}};
  for (const Case& c : cases) {
    LocalRun r = run_of(m, c.dp, c.tp, c.pp, c.b, c.B);
    r.zero = c.zero;
    for (int st = 0; st < c.pp; ++st) {
      parallel::CommVolumeSetup v;
      v.config = config_of(m);
      v.shape = {c.dp, c.tp, c.pp};
      v.coord = {0, 0, st};
      v.stage_layers = static_cast<int>(m.layers) / c.pp;
      v.B = static_cast<int>(c.b);
      v.T = static_cast<int>(m.seq);
      v.micro = static_cast<int>(local_micro_batches(r));
      v.zero = c.zero;
      // The plan leaves out the scalar all-reduces: the norm (ZeRO >= 1) and the loss
      // over dp when there is no pipeline.
      const double scalars = (c.zero >= 1 ? 8.0 : 0.0) + (c.pp == 1 ? 16.0 : 0.0);
      EXPECT_DOUBLE_EQ(local_dp_traffic(r, st).bytes(local_micro_batches(r)) + scalars,
                       parallel::comm_volume_formula(v).dp)
          << "dp " << c.dp << " tp " << c.tp << " pp " << c.pp << " zero " << c.zero;
    }
  }
}

TEST(PlanLocalStep, ZeroStagesPriceTheirMessagesAndShardTheOptimizer) {
  const ModelSpec m{"d6", 6, 384, 6, 50304, 64};
  const Rates rates = uniform(10, 5, 5, 5);  // link: α 10 µs, 1 GB/s
  const double psi = model_params(m), P = 4.0 * psi, wte = 50304.0 * 384;
  auto run = [&](int zero, int dp, int64_t b, int64_t B) {
    LocalRun r = run_of(m, dp, 1, 1, b, B);
    r.zero = zero;
    return r;
  };
  // Optimizer bytes per rank: AdamW 28, norm 4, zeroing 4 per parameter, sharded by stage.
  EXPECT_DOUBLE_EQ(local_optimizer_bytes(run(0, 2, 2, 4), 0), 36.0 * psi);
  EXPECT_DOUBLE_EQ(local_optimizer_bytes(run(1, 2, 2, 4), 0), 32.0 * psi / 2 + 4.0 * psi);
  EXPECT_DOUBLE_EQ(local_optimizer_bytes(run(2, 2, 2, 4), 0), 36.0 * psi / 2);
  EXPECT_DOUBLE_EQ(local_optimizer_bytes(run(3, 2, 2, 4), 0), 36.0 * psi / 2);
  // pp with ZeRO-0: the last stage does not update its copy of wte.
  const LocalRun pp = run_of(m, 1, 1, 2, 2, 4);
  const double psi_s = local_stage_params(pp, 1);
  EXPECT_DOUBLE_EQ(local_optimizer_bytes(pp, 1), 28.0 * (psi_s - wte) + 8.0 * psi_s);
  EXPECT_DOUBLE_EQ(local_optimizer_bytes(pp, 0), 36.0 * psi_s);

  // Wall clock by the ring α–β formulas: ZeRO-0 one all-reduce; ZeRO-1/2 a
  // reduce-scatter and an all-gather of the same bytes (the same total on a ring).
  const double ar = 2.0 * 1 / 2 * P / 1e9 + 2 * 1e-5, half = 1.0 / 2 * P / 1e9 + 1e-5;
  EXPECT_NEAR(local_step_estimate(run(0, 2, 2, 4), rates, false).dp_comm_s, ar, 1e-12);
  EXPECT_NEAR(local_step_estimate(run(2, 2, 2, 4), rates, false).dp_comm_s, 2 * half, 1e-12);
  // ZeRO-3: the reduce-scatter once per step; per micro-batch 3 + 2 + 2L all-gathers
  // (embedding ×3, lnf ×2, each block ×2), each with its own α.
  const LocalRun z3 = run(3, 2, 1, 4);  // m = 2 micro-batches of 1
  const LocalStepReport r3 = local_step_estimate(z3, rates, false);
  EXPECT_NEAR(r3.dp_comm_s, half, 1e-12);
  const double E = 4.0 * (50304.0 + 64) * 384, head = 4.0 * 2 * 384, blocks = P - E - head;
  const double gathered = 3 * E + 2 * head + 2 * blocks;
  EXPECT_NEAR(r3.stages[0].zero_gather_s, 1.0 / 2 * gathered / 1e9 + (3 + 2 + 2 * 6) * 1e-5, 1e-12);
  EXPECT_DOUBLE_EQ(r3.dp_bytes, P + 2 * gathered);
  // The gathers sit inside every micro-batch, so the step pays them m times.
  const LocalStepReport r1 = local_step_estimate(run(1, 2, 1, 4), rates, false);
  EXPECT_NEAR(r3.step_s - r1.step_s,
              2 * r3.stages[0].zero_gather_s + (r3.dp_comm_s - r1.dp_comm_s) +
                  (r3.optimizer_s - r1.optimizer_s) + r3.fault_s,
              1e-12);
  // --zero-release: "grads" (the default) faults the (dp−1)/dp gradient pieces a rank
  // gave back in again once per step, at the "fault" rate (2 GB/s here); "none" nothing;
  // "all" also (dp−1)/dp of every ZeRO-3 gather, per micro-batch. ZeRO-0/1 release nothing.
  EXPECT_NEAR(local_step_estimate(run(2, 2, 2, 4), rates, false).fault_s, 1.0 / 2 * P / 2e9, 1e-12);
  EXPECT_NEAR(r3.fault_s, 1.0 / 2 * P / 2e9, 1e-12);
  EXPECT_DOUBLE_EQ(r3.stages[0].fault_s, 0.0);
  EXPECT_DOUBLE_EQ(local_step_estimate(run(1, 2, 2, 4), rates, false).fault_s, 0.0);
  LocalRun none = run(2, 2, 2, 4);
  none.zero_release = "none";
  EXPECT_DOUBLE_EQ(local_step_estimate(none, rates, false).fault_s, 0.0);
  LocalRun all = z3;
  all.zero_release = "all";
  const LocalStepReport ra = local_step_estimate(all, rates, false);
  EXPECT_NEAR(ra.stages[0].fault_s, 1.0 / 2 * gathered / 2e9, 1e-12);
  EXPECT_NEAR(ra.stages[0].zero_gather_s, r3.stages[0].zero_gather_s + ra.stages[0].fault_s, 1e-12);
  all.zero_release = "some";
  EXPECT_THROW(local_validate(all), Error);
  // Refused like weft refuses it: ZeRO-3 with tp or pp, stages past 3.
  LocalRun bad = run_of(m, 2, 2, 1, 2, 4);
  bad.zero = 3;
  EXPECT_THROW(local_validate(bad), Error);
  bad = run(4, 2, 2, 4);
  EXPECT_THROW(local_validate(bad), Error);
}

TEST(PlanLocalStep, PredictionsMoveTheRightWayWithRates) {
  const ModelSpec m{"d6", 6, 384, 6, 50304, 64};
  const LocalRun one = run_of(m, 1, 1, 1, 4, 4);
  const LocalStepReport slow = local_step_estimate(one, uniform(10, 5, 5, 5), false);
  const LocalStepReport fast = local_step_estimate(one, uniform(20, 5, 5, 5), false);
  // Twice the sgemm rate: the sgemm part halves, the memory-bound part stays.
  EXPECT_NEAR(fast.stages[0].gemm_s, slow.stages[0].gemm_s / 2, 1e-12);
  EXPECT_DOUBLE_EQ(fast.stages[0].memory_s, slow.stages[0].memory_s);
  EXPECT_LT(fast.step_s, slow.step_s);
  EXPECT_LT(local_step_estimate(one, uniform(10, 10, 10, 10), false).step_s, slow.step_s);
  EXPECT_NEAR(slow.step_s, slow.pipeline_s + slow.optimizer_s, 1e-12);

  // tp2 pays all-reduces: a faster link makes it faster, and they follow α–β exactly.
  const LocalRun tp = run_of(m, 1, 2, 1, 4, 4);
  Rates r = uniform(10, 5, 5, 5);
  const LocalStepReport t1 = local_step_estimate(tp, r, false);
  const double act = 4.0 * 4 * 64 * 384;
  const double ar = 2.0 * 1 / 2 * act / 1e9 + 2 * 1e-5;
  const double stats = (2.0 * 1 / 2 * 8 * 256 / 1e9 + 2e-5) + (2.0 * 1 / 2 * 16 * 256 / 1e9 + 2e-5);
  EXPECT_NEAR(t1.stages[0].tp_comm_s, (4 * 6 + 2) * ar + stats, 1e-12);
  r.intra_host.beta_s_per_byte /= 4;
  EXPECT_LT(local_step_estimate(tp, r, false).step_s, t1.step_s);

  // pp2: the last stage (logits) is the slow one; 1F1B over m = 2 micro-batches is
  // 2·max + the other stage, plus the tied-embedding exchange.
  const LocalRun pp = run_of(m, 1, 1, 2, 2, 4);
  const LocalStepReport p = local_step_estimate(pp, uniform(10, 5, 5, 5), false);
  ASSERT_EQ(p.stages.size(), 2u);
  EXPECT_GT(p.stages[1].micro_batch_s, p.stages[0].micro_batch_s);
  EXPECT_NEAR(p.pipeline_s, 2 * p.stages[1].micro_batch_s + p.stages[0].micro_batch_s, 1e-12);
  // Two messages of wte, and the last stage's zeroing (4 bytes) and the first's add (12)
  // of its gradient at the streaming bandwidth (5 GB/s here).
  EXPECT_NEAR(p.wte_sync_s, 2 * (1e-5 + 4.0 * 50304 * 384 / 1e9) + 16.0 * 50304 * 384 / 5e9, 1e-12);

  // dp2: half the batch per rank plus a gradient all-reduce of the whole model.
  const LocalStepReport d = local_step_estimate(run_of(m, 2, 1, 1, 2, 4), uniform(10, 5, 5, 5), false);
  EXPECT_NEAR(d.dp_comm_s, 2.0 * 1 / 2 * 4 * model_params(m) / 1e9 + 2e-5, 1e-9);
  EXPECT_NEAR(d.stages[0].gemm_s, slow.stages[0].gemm_s / 2, 1e-12);

  // CPU clock: one rank's CPU-seconds are its busy time; two ranks add up.
  const LocalStepReport c1 = local_step_estimate(one, uniform(10, 5, 5, 5), true);
  EXPECT_NEAR(c1.cpu_s, c1.step_s, 1e-12);
  EXPECT_GT(local_step_estimate(run_of(m, 2, 1, 1, 2, 4), uniform(10, 5, 5, 5), true).cpu_s, c1.cpu_s);
}

TEST(PlanLocalStep, RejectsLayoutsThatDoNotDivide) {
  const Rates r = uniform(10, 5, 5, 5);
  EXPECT_THROW(local_step_estimate(run_of(tiny(), 1, 3, 1, 1, 1), r, false), Error);  // heads 2 % 3
  EXPECT_THROW(local_step_estimate(run_of(tiny(), 1, 1, 3, 1, 1), r, false), Error);  // layers 2 % 3
  EXPECT_THROW(local_step_estimate(run_of(tiny(), 2, 1, 1, 2, 3), r, false), Error);  // B 3 % 4
  EXPECT_THROW(local_step_estimate(run_of(tiny(), 1, 1, 1, 1, 1), Rates{}, false), Error);
}

}  // namespace
}  // namespace weft::plan
