// Pipeline schedules as timed boxes (GPipe and 1F1B / PipeDream-Flush, Narayanan et al.
// 2021 Figs. 3–4) and their drawing as a hand-written SVG. The schedule knows nothing of
// layers: a stage runs forward i and backward i, each taking a fixed time. Pure; any thread.
#pragma once

#include <string>
#include <vector>

#include "plan/layout.hpp"

namespace weft::plan {

struct TimelineOp {
  int stage = 0;
  int micro_batch = 0;   // 0-based
  bool forward = true;
  double start = 0, end = 0;
};

// Simulates p stages and m micro-batches: an op starts when its stage is free and its
// dependency is done (forward i on stage s after forward i on s−1; backward i on s after
// backward i on s+1 and forward i on s). Ops per stage in schedule order. Requires p, m ≥ 1.
std::vector<TimelineOp> timeline_simulate(Schedule schedule, int stages, int micro_batches,
                                          double t_forward, double t_backward);
double timeline_makespan(const std::vector<TimelineOp>& ops);

// Both schedules for p stages and m micro-batches, one panel each (GPipe on top), as SVG.
// Each box is <rect class="op fwd|bwd" data-schedule=.. data-stage=.. data-mb=..>.
std::string timeline_svg(int stages, int micro_batches, double t_forward, double t_backward);
// Writes timeline_svg(...) to `path`; refuses to overwrite an existing file (input error).
void timeline_write(const std::string& path, int stages, int micro_batches, double t_forward,
                    double t_backward);

}  // namespace weft::plan
