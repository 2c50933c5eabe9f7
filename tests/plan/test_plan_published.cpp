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

namespace weft::plan {
namespace {

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

struct MegatronRow {
  double params_b;
  int heads, hidden, layers, tp, pp, gpus, batch;
  double tflops_per_gpu, aggregate_pflops;
  int micro_batch = 1;      // b
  int virtual_stages = 1;   // v > 1: interleaved schedule
  bool dp_overlap = false;  // PyTorch DDP (--DDP-impl torch) instead of Megatron's local DDP
};

// Narayanan et al. 2021 Table 1 (V = 51200, s = 2048, full activation recomputation, A100
// peak 312 TFLOP/s, fp16). The columns b, v and DDP are not in the table: they come from
// the scripts NVIDIA published to reproduce it, Megatron-LM examples/sc21/run_table_1.sh
// (commit 6985e58, 2021-08-18): MBS 16,16,16,8,4,2,2,1,1,1; --num-layers-per-virtual-
// pipeline-stage 5 (76B: 15 layers per stage → v = 3), 5 (145B: v = 2), 3 (310B: v = 2),
// 1 (530B: v = 3), none for 39B and 1T; --DDP-impl torch for the pp = 1 rows, local else.
constexpr MegatronRow kTable1[] = {
    {1.7, 24, 2304, 24, 1, 1, 32, 512, 137, 4.4, 16, 1, true},
    {3.6, 32, 3072, 30, 2, 1, 64, 512, 138, 8.8, 16, 1, true},
    {7.5, 32, 4096, 36, 4, 1, 128, 512, 142, 18.2, 16, 1, true},
    {18.4, 48, 6144, 40, 8, 1, 256, 1024, 135, 34.6, 8, 1, true},
    {39.1, 64, 8192, 48, 8, 2, 512, 1536, 138, 70.8, 4, 1, false},
    {76.1, 80, 10240, 60, 8, 4, 1024, 1792, 140, 143.8, 2, 3, false},
    {145.6, 96, 12288, 80, 8, 8, 1536, 2304, 148, 227.1, 2, 2, false},
    {310.1, 128, 16384, 96, 8, 16, 1920, 2160, 155, 297.4, 1, 2, false},
    {529.6, 128, 20480, 105, 8, 35, 2520, 2520, 163, 410.2, 1, 3, false},
    {1008.0, 160, 25600, 128, 8, 64, 3072, 3072, 163, 502.0, 1, 1, false},
};

// Narayanan et al. 2021 Table 2, PTD-P rows: micro-batch 1, model-parallel size t·p = 96
// (174.6B) and 280 (529.6B); t = 8 as in every multi-node row of Table 1 (p = 12 and 35,
// the 529.6B layout of Table 1). The table does not say which pipeline schedule ran; these
// rows use plain 1F1B and Megatron's local DDP (docs/plan.md shows the interleaved case).
constexpr MegatronRow kTable2[] = {
    {174.6, 96, 12288, 96, 8, 12, 384, 1536, 153, 0},
    {174.6, 96, 12288, 96, 8, 12, 768, 1536, 149, 0},
    {174.6, 96, 12288, 96, 8, 12, 1536, 1536, 141, 0},
    {529.6, 128, 20480, 105, 8, 35, 560, 2240, 171, 0},
    {529.6, 128, 20480, 105, 8, 35, 1120, 2240, 167, 0},
    {529.6, 128, 20480, 105, 8, 35, 2240, 2240, 159, 0},
};

RunSpec megatron_run(const MegatronRow& row) {
  RunSpec run;
  run.model = {"megatron", row.layers, row.hidden, row.heads, 51200, 2048};
  run.cluster.gpu = gpu_lookup("a100-80gb");  // Selene: DGX A100 80 GB (paper §5)
  run.cluster.gpus = row.gpus;
  run.cluster.gpus_per_node = 8;
  run.cluster.intra = link_lookup("nvlink3");
  run.cluster.inter = link_lookup("ib-hdr");  // Selene: 8 HDR NICs per DGX A100 node
  run.layout.tp = row.tp;
  run.layout.pp = row.pp;
  run.layout.dp = row.gpus / (row.tp * row.pp);
  run.layout.micro_batch = row.micro_batch;
  run.layout.global_batch = row.batch;
  run.layout.recompute = Recompute::kFull;
  run.layout.sequence_parallel = false;  // Korthikanti et al. 2022 came a year later
  if (row.virtual_stages > 1) {
    run.layout.schedule = Schedule::kInterleaved;
    run.layout.virtual_stages = row.virtual_stages;
  }
  run.layout.dp_overlap = row.dp_overlap;
  run.tokens = 300e9;
  run.mfu = row.tflops_per_gpu * 1e12 / run.cluster.gpu.peak_tensor16;  // their measured rate
  return run;
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

// The measured rate already contains Megatron's own bubble and communication; weft uses
// the MFU as the efficiency of the math alone and adds its modelled overheads on top, so
// the prediction must come out below the measurement (overheads only subtract), and by
// no more than weft's overheads for those layouts (≤ 22% of the step, docs/plan.md). Where
// the layout has no pipeline (pp = 1: no bubble, dp all-reduce hidden by PyTorch DDP) the
// only overhead left is tensor parallelism, and the 15% must hold.
TEST(PlanPublished, MegatronTable1ThroughputGivenMeasuredMfu) {
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
