// The math efficiency behind an end-to-end utilisation. Papers report how much of the
// peak a whole step reached (PaLM's MFU: model FLOPs only; Narayanan's "percentage of
// peak": executed FLOPs, recomputation included, i.e. HFU); weft's time model needs the
// fraction the math kernels reach, with bubble and communication added on top. This
// inverts that model for one layout. Pure; any thread.
#pragma once

#include "plan/layout.hpp"
#include "plan/time_model.hpp"

namespace weft::plan {

// MFU (Chowdhery et al. 2022, App. B): model FLOPs / (step · GPUs · peak).
// HFU: executed FLOPs (incl. recomputation) / (step · GPUs · peak).
double achieved_utilization(const TimeReport& t, Utilization basis);

// The run.mfu at which time_estimate(run) reaches `target` of the peak end to end on
// `basis`. Throws a config error naming the ceiling when the layout cannot reach it even
// with the math at peak (its modelled bubble and communication alone take too long), and
// an input error when target is not in (0, 1]. The layout must be valid (run_validate).
double solve_math_efficiency(const RunSpec& run, double target, Utilization basis);

// run with mfu solved from run.given (a no-op when run.given.basis is kMath).
RunSpec run_with_given_utilization(const RunSpec& run);

}  // namespace weft::plan
