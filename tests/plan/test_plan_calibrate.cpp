// --calibrate's micro-benchmarks: the checked sgemm, positive rates, and the cluster the
// rates turn into (peak = measured sgemm, links = measured α–β) priced by the time model.
#include <gtest/gtest.h>

#include "plan/calibrate.hpp"
#include "plan/comm_model.hpp"
#include "plan/time_model.hpp"

namespace weft::plan {
namespace {

TEST(PlanCalibrate, MeasuresCheckedRatesAndBuildsACluster) {
  CalibrateOptions o;
  o.gemm_n = 128;
  o.repeats = 3;
  o.copy_bytes = 4 << 20;
  o.message_bytes = 2 << 20;
  const MeasuredRates r = calibrate_measure(o);
  EXPECT_LT(r.gemm_max_error, 1e-4);
  EXPECT_GT(r.gemm_flops, 1e8);       // even a busy laptop core does 0.1 GFLOP/s
  EXPECT_GT(r.mem_bandwidth, 1e8);
  EXPECT_GT(r.local_alpha, 0);
  EXPECT_LT(r.local_alpha, 0.1);
  EXPECT_GT(r.local_beta, 1e7);
  const ClusterSpec c = calibrate_cluster(r, 2, 16e9);
  EXPECT_EQ(c.gpus, 2);
  EXPECT_DOUBLE_EQ(c.gpu.peak_fp32, r.gemm_flops / 2);  // two ranks share the cores
  EXPECT_DOUBLE_EQ(comm_p2p_s(1e6, c.intra), r.local_alpha + 1e6 / r.local_beta);
  RunSpec run;
  run.model = model_preset("gpt2-124m");
  run.cluster = c;
  run.layout.dp = 2;
  run.layout.global_batch = 8;
  run.layout.mixed = false;
  run.tokens = 1e6;
  run.mfu = 1.0;
  run_validate(run);
  const TimeReport t = time_estimate(run);
  // m = 8 / (dp 2 · b 1) = 4 micro-batches per rank, each 1/8 of the step's FLOPs, at
  // half the measured rate.
  EXPECT_NEAR(t.mb_compute / (flops_per_iteration(run.model, 8, Recompute::kNone) / 8 / (r.gemm_flops / 2)),
              1.0, 1e-12);
}

TEST(PlanCalibrate, RejectsSillyOptions) {
  CalibrateOptions o;
  o.gemm_n = 8;
  EXPECT_ANY_THROW(calibrate_measure(o));
}

}  // namespace
}  // namespace weft::plan
