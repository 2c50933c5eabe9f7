// weft plan against published figures (independent oracles, each cited):
//  - GPT-3 175B: 3.14e23 training FLOPs (Brown et al. 2020, Table D.1), 355 GPU-years at
//    28 TFLOP/s on one V100 and ≈ $4.6M (Lambda Labs, "OpenAI's GPT-3 Language Model:
//    A Technical Overview", 2020, the course note's source);
//  - ZeRO (Rajbhandari et al. 2020, Figure 1): per-GPU model states for Ψ = 7.5B, Nd = 64;
//  - Narayanan et al. 2021 Table 1 (weak scaling) and Table 2 (PTD-P rows): parameter
//    counts and per-GPU throughput; §5.1: GPT-3 on 1024 A100s at 140 TFLOP/s ≈ 34 days;
//  - Korthikanti et al. 2022 §4.2: for GPT-3, 5as/h = 80 and selective recomputation
//    removes ≈ 70% of the activation memory.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "plan/memory_model.hpp"
#include "plan/time_model.hpp"
#include "published_runs.hpp"

namespace weft::plan {
namespace {

using published::kTable1;
using published::kTable2;
using published::megatron_run;
using published::MegatronRow;

constexpr double kYear = 365.25 * 86400.0;

RunSpec gpt3_on_one_v100() {
  RunSpec run;
  run.model = model_preset("gpt3-175b");
  run.cluster.gpu = gpu_lookup("v100");
  run.cluster.gpus = 1;
  run.cluster.gpus_per_node = 8;
  run.cluster.intra = link_lookup("nvlink2");
  run.cluster.inter = link_lookup("ib-hdr");
  run.layout.global_batch = 1536;  // GPT-3's 3.2M-token batch
  run.tokens = 300e9;
  run.mfu = 28e12 / run.cluster.gpu.peak_tensor16;  // 28 TFLOP/s achieved
  return run;
}

TEST(PlanPublished, Gpt3ParameterCountIs175B) {
  // Brown et al. 2020 Table 2.1: 175.0B; Narayanan Table 2 (V = 51200): 174.6B.
  EXPECT_NEAR(model_params(model_preset("gpt3-175b")) / 1e9, 175.0, 0.6);
}

TEST(PlanPublished, Gpt3TrainingFlopsSixND) {
  const ModelSpec m = model_preset("gpt3-175b");
  EXPECT_NEAR(flops_six_nd(m, 300e9) / 3.14e23, 1.0, 0.01);
  // Narayanan's count adds attention scores and logits: a few percent more, not less.
  const double per_token = flops_per_iteration(m, 1, Recompute::kNone) / static_cast<double>(m.seq);
  const double ratio = per_token * 300e9 / 3.14e23;
  EXPECT_GT(ratio, 1.0);
  EXPECT_LT(ratio, 1.06);
}

TEST(PlanPublished, Gpt3OnOneV100Takes355YearsAndCosts4Point6M) {
  RunSpec run = gpt3_on_one_v100();
  run.flops_rule = FlopsRule::kSixND;
  // The price the published $4.6M implies: 4.6e6 / (355 years · 8766 h) ≈ $1.48 per GPU-hour.
  const double implied_price = 4.6e6 / (355.0 * 365.25 * 24.0);
  run.cluster.price_per_gpu_hour = implied_price;
  const TimeReport t = time_estimate(run);
  EXPECT_NEAR(t.seconds / kYear, 355.0, 355.0 * 0.01);
  EXPECT_NEAR(t.cost / 4.6e6, 1.0, 0.01);
  EXPECT_FALSE(memory_estimate(run).fits);  // 2.8 TB of model states on a 32 GB card
  // With Narayanan's FLOP count the answer moves by the attention/logit share only.
  run.flops_rule = FlopsRule::kNarayanan;
  EXPECT_NEAR(time_estimate(run).seconds / kYear / 355.0, 1.0, 0.05);
}

TEST(PlanPublished, ZeroPaperModelStates7Point5BOn64Gpus) {
  // Rajbhandari et al. 2020 Figure 1: 120 GB, 31.4 GB, 16.6 GB, 1.9 GB (GB = 1e9 bytes).
  const double expected[4] = {120.0, 31.4, 16.6, 1.9};
  for (int stage = 0; stage <= 3; ++stage) {
    const double gb = model_state_bytes(7.5e9, stage, 64, /*mixed=*/true).total() / 1e9;
    EXPECT_NEAR(gb, expected[stage], 0.05 * expected[stage]) << "stage " << stage;
  }
}

TEST(PlanPublished, MegatronTable1ParameterCounts) {
  auto check = [](const MegatronRow& row) {
    // The table prints one decimal: allow half a unit of the last digit.
    EXPECT_NEAR(model_params(megatron_run(row).model) / 1e9, row.params_b, 0.05 + 0.001 * row.params_b)
        << row.params_b << "B";
  };
  for (const auto& row : kTable1) check(row);
  for (const auto& row : kTable2) check(row);
}

// Reading the table's rate as the efficiency of the math alone (weft's --mfu, or --tflops):
// the rate already contains Megatron's own bubble and communication and weft adds its
// modelled ones on top, so the prediction must come out below the measurement, and by no
// more than weft's overheads for those layouts (≤ 22% of the step, docs/plan.md). Where
// the layout has no pipeline (pp = 1: no bubble, dp all-reduce hidden by PyTorch DDP) the
// only overhead left is tensor parallelism and 15% must hold. Given the rate end to end,
// as the paper measured it (--achieved-hfu), see test_plan_achieved.cpp.
TEST(PlanPublished, MegatronTable1GivenItsRateAsTheMathEfficiency) {
  int within = 0, rows = 0;
  auto check = [&](const MegatronRow& row) {
    const RunSpec run = megatron_run(row);
    run_validate(run);
    const TimeReport t = time_estimate(run);
    const double ratio = t.tflops_per_gpu / 1e12 / row.tflops_per_gpu;
    EXPECT_LE(ratio, 1.0) << row.params_b << "B on " << row.gpus << " GPUs";
    EXPECT_GE(ratio, 0.78) << row.params_b << "B on " << row.gpus << " GPUs";
    if (row.pp == 1) {
      EXPECT_GE(ratio, 0.85) << row.params_b << "B on " << row.gpus << " GPUs";
    }
    if (row.aggregate_pflops > 0) {
      // Aggregate = per-GPU · n: the table's two columns agree with each other to rounding.
      EXPECT_NEAR(row.tflops_per_gpu * row.gpus / 1e3 / row.aggregate_pflops, 1.0, 0.01);
    }
    EXPECT_TRUE(memory_estimate(run).fits) << row.params_b << "B";
    within += ratio >= 0.85;
    ++rows;
  };
  for (const auto& row : kTable1) check(row);
  for (const auto& row : kTable2) check(row);
  std::printf("[ info     ] %d of %d rows within 15%%\n", within, rows);
}

// Scale-out without circularity: the math efficiency is solved for once, on the smallest
// GPU count of a Table 2 family, and the other two rows (same model, layout and batch,
// 2× and 4× the GPUs, so fewer micro-batches per pipeline and a wider dp ring) are
// predicted from it. Tolerance 2.5% of the rate: the table's 3-digit figures carry up to
// ±0.35% each (two enter), the rest is the model. A model without overheads would be 8%
// high at 4× the GPUs; the interleaved schedule (v = 4 for 174.6B as in the paper's
// Figure 12 script, v = 3 for 529.6B as in Table 1's) would be 5% and 4% high.
double tflops_at(const MegatronRow& row, double mfu) {
  RunSpec run = megatron_run(row);
  run.mfu = mfu;
  run_validate(run);
  return time_estimate(run).tflops_per_gpu / 1e12;
}

double calibrate_mfu(const MegatronRow& row) {
  double lo = 0.01, hi = 1.0;  // weft's rate rises with the MFU: bisect
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (lo + hi);
    (tflops_at(row, mid) < row.tflops_per_gpu ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

TEST(PlanPublished, MegatronTable2ScaleOutFromOneCalibratedRow) {
  for (size_t family = 0; family < 2; ++family) {
    const MegatronRow* rows = kTable2 + 3 * family;
    const double mfu = calibrate_mfu(rows[0]);
    EXPECT_NEAR(tflops_at(rows[0], mfu), rows[0].tflops_per_gpu, 1e-6);
    for (int i = 1; i < 3; ++i) {
      const double predicted = tflops_at(rows[i], mfu);
      EXPECT_NEAR(predicted / rows[i].tflops_per_gpu, 1.0, 0.025)
          << rows[i].params_b << "B on " << rows[i].gpus << " GPUs: " << predicted;
      EXPECT_LT(predicted, tflops_at(rows[i - 1], mfu));  // overheads grow with the GPUs
    }
  }
}

TEST(PlanPublished, Gpt3On1024A100sIn34Days) {
  // Narayanan §5.1: 175B, 300B tokens, 1024 A100s at X = 140 TFLOP/s end to end → 34 days,
  // from their approximation 8·T·P / (n·X). weft's exact eq. 3 count (with recomputation)
  // at the same end-to-end rate must agree.
  const ModelSpec m = model_preset("gpt3-175b");
  const double per_token = flops_per_iteration(m, 1, Recompute::kFull) / static_cast<double>(m.seq);
  const double days = per_token * 300e9 / (1024 * 140e12) / 86400.0;
  EXPECT_NEAR(days / 34.0, 1.0, 0.05) << days;
  // And the full time model, given 140 TFLOP/s as the efficiency of the math, adds its
  // overheads (bubble 15/207 at t = 8, p = 16, dp = 8, b = 1): longer, but by under 25%.
  MegatronRow row{174.6, 96, 12288, 96, 8, 16, 1024, 1536, 140, 0};
  RunSpec run = megatron_run(row);
  run.model.vocab = m.vocab;
  const TimeReport t = time_estimate(run);
  EXPECT_GT(t.days, days);
  EXPECT_LT(t.days, 1.25 * days);
}

TEST(PlanPublished, KorthikantiGpt3SelectiveRecomputeSaves70Percent) {
  RunSpec run = gpt3_on_one_v100();
  run.layout.tp = 8;
  const ModelSpec& m = run.model;
  EXPECT_DOUBLE_EQ(5.0 * m.heads * m.seq / static_cast<double>(m.hidden), 80.0);
  const double none = activation_bytes_per_layer(m, run.layout);
  run.layout.recompute = Recompute::kSelective;
  const double selective = activation_bytes_per_layer(m, run.layout);
  EXPECT_NEAR(1.0 - selective / none, 0.70, 0.01);
}

}  // namespace
}  // namespace weft::plan
