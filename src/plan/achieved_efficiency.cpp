// Inverting the time model (see achieved_efficiency.hpp). The achieved utilisation rises
// strictly with the math efficiency: a faster kernel shortens every micro-batch and the
// bubble with it, and the dp all-reduce it uncovers (--dp-overlap) is at most the
// backward time it saved. So bisection on (0, 1] finds the one answer.
#include "plan/achieved_efficiency.hpp"

#include <cmath>

#include "core/error.hpp"

namespace weft::plan {

namespace {

const char* basis_name(Utilization b) { return b == Utilization::kModelFlops ? "MFU" : "HFU"; }

double achieved_at(RunSpec run, double mfu, Utilization basis) {
  run.mfu = mfu;
  return achieved_utilization(time_estimate(run), basis);
}

}  // namespace

double achieved_utilization(const TimeReport& t, Utilization basis) {
  switch (basis) {
    case Utilization::kModelFlops: return t.mfu_achieved;
    case Utilization::kHardwareFlops: return t.hfu_achieved;
    default: throw input_error("achieved_utilization: the math efficiency is not measured end to end");
  }
}

double solve_math_efficiency(const RunSpec& run, double target, Utilization basis) {
  if (basis == Utilization::kMath) return target;
  if (!(target > 0 && target <= 1)) {
    throw input_error(str("achieved ", basis_name(basis), " must be in (0, 1], got ", target));
  }
  const double ceiling = achieved_at(run, 1.0, basis);
  if (target > ceiling) {
    throw config_error(
        str("this layout cannot reach ", basis_name(basis), " ", target, " end to end: with the math at ",
            "100% of peak its modelled bubble and communication cap it at ", ceiling),
        "use a layout with fewer pipeline stages or more micro-batches, or check the figure");
  }
  double lo = 0.0, hi = 1.0;
  for (int i = 0; i < 80 && hi - lo > 1e-12; ++i) {
    const double mid = 0.5 * (lo + hi);
    (achieved_at(run, mid, basis) < target ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

RunSpec run_with_given_utilization(const RunSpec& run) {
  RunSpec solved = run;
  if (run.given.basis != Utilization::kMath) {
    solved.mfu = solve_math_efficiency(run, run.given.value, run.given.basis);
  }
  return solved;
}

}  // namespace weft::plan
