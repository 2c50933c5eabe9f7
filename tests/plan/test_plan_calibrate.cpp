// --calibrate's micro-benchmarks on a tiny run: the checked sgemm, one positive entry for
// every sgemm shape and kernel the run uses, nothing measured twice, and a prediction
// from the measured rates that is finite and positive.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "plan/calibrate.hpp"

namespace weft::plan {
namespace {

LocalRun tiny_run(int dp, int tp, int pp) {
  LocalRun r;
  r.model = {"tiny", 2, 64, 2, 256, 16};
  r.dp = dp;
  r.tp = tp;
  r.pp = pp;
  r.micro_batch = 2;
  r.global_batch = 2 * dp;
  return r;
}

TEST(PlanCalibrate, MeasuresEveryShapeTheRunUsesOnce) {
  EXPECT_LT(calibrate_gemm_check(), 1e-4);
  CalibrateOptions o;
  o.repeats = 2;
  o.repeat_seconds = 0.001;
  o.message_bytes = 1 << 20;
  LocalRun zero2 = tiny_run(2, 1, 1);
  zero2.zero = 2;  // releases (dp−1)/dp of its gradients: the "fault" kernel is measured
  const std::vector<LocalRun> runs = {tiny_run(1, 1, 1), tiny_run(1, 2, 1), zero2};
  const Rates r = calibrate_measure(runs, Rates{}, o);
  const int64_t released = static_cast<int64_t>(local_fault_bytes(zero2, 0).step / 4);
  EXPECT_GT(released, 0);
  EXPECT_TRUE(rates_has_kernel(r.compute, "fault", released, 1, 2));
  EXPECT_FALSE(rates_has_kernel(r.compute, "fault", released, 1, 1));  // only where released
  ASSERT_TRUE(r.has_compute);
  ASSERT_TRUE(r.has_intra);
  EXPECT_GT(r.intra_host.alpha_s, 0);
  EXPECT_LT(r.intra_host.alpha_s, 0.1);
  EXPECT_GT(r.intra_host.beta_s_per_byte, 0);
  for (const LocalRun& run : runs) {
    const int q = local_ranks(run);
    for (const GemmCall& g : local_stage_gemms(run, 0))
      EXPECT_TRUE(rates_has_gemm(r.compute, g.m, g.n, g.k, g.op, 1, q))
          << g.m << " " << g.n << " " << g.k << " " << g.op;
    EXPECT_TRUE(rates_has_kernel(r.compute, "layer", 2 * 16 * 64, 1, q));
    EXPECT_TRUE(rates_has_kernel(r.compute, "classifier", 2 * 16 * 256 / run.tp, 1, q));
  }
  for (const GemmRate& e : r.compute.gemm) {
    EXPECT_GT(e.gflops, 0.01);
    EXPECT_GT(e.gflops_cpu, 0.01);
    // Each (shape, op, threads, concurrency) once.
    int same = 0;
    for (const GemmRate& x : r.compute.gemm)
      same += x.m == e.m && x.n == e.n && x.k == e.k && x.op == e.op && x.threads == e.threads &&
              x.concurrency == e.concurrency;
    EXPECT_EQ(same, 1);
  }
  // Everything is there already: nothing new is measured.
  CalibrateOptions no_link = o;
  no_link.measure_link = false;
  const Rates again = calibrate_measure(runs, r, no_link);
  EXPECT_TRUE(again.compute.gemm.empty());
  EXPECT_TRUE(again.compute.kernels.empty());
  EXPECT_FALSE(again.has_intra);
  // The measured rates price the runs.
  for (const LocalRun& run : runs) {
    const LocalStepReport w = local_step_estimate(run, r, false), c = local_step_estimate(run, r, true);
    EXPECT_GT(w.step_s, 0);
    EXPECT_LT(w.step_s, 10);
    EXPECT_GT(c.cpu_s, 0);
  }
}

TEST(PlanCalibrate, RejectsSillyOptions) {
  CalibrateOptions o;
  o.repeats = 0;
  EXPECT_THROW(calibrate_measure({}, Rates{}, o), Error);
}

}  // namespace
}  // namespace weft::plan
