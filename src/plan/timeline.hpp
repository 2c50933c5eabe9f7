// Pipeline schedules as timed boxes (GPipe, 1F1B / PipeDream-Flush and Megatron-LM's
// interleaved 1F1B, Narayanan et al. 2021 Figs. 3–4, §2.2.2) and their drawing as a
// hand-written SVG. The schedule knows nothing of layers: a device runs forward i and
// backward i of each model chunk it holds, each taking a fixed time. Pure; any thread.
#pragma once

#include <string>
#include <vector>

#include "plan/layout.hpp"

namespace weft::plan {

struct TimelineOp {
  int stage = 0;         // device (pipeline rank) 0..p−1
  int chunk = 0;         // model chunk on that device, 0..v−1 (0 unless interleaved);
                         // it is virtual stage chunk·p + stage
  int micro_batch = 0;   // 0-based
  bool forward = true;
  double start = 0, end = 0;
};

// Simulates p devices, m micro-batches and v model chunks per device (v = 1 except for
// Schedule::kInterleaved, which needs m a multiple of p). A chunk's forward takes
// t_forward / v and its backward t_backward / v. An op starts when its device is free and
// its dependencies are done: forward i of virtual stage q after forward i of q−1; backward
// i of q after forward i of q and backward i of q+1. Each device runs its ops in schedule
// order (see timeline_simulate.cpp). Returns ops in the order they were placed.
std::vector<TimelineOp> timeline_simulate(Schedule schedule, int stages, int micro_batches,
                                          double t_forward, double t_backward,
                                          int virtual_stages = 1);
double timeline_makespan(const std::vector<TimelineOp>& ops);

// GPipe and 1F1B for p stages and m micro-batches, one panel each (GPipe on top), plus a
// third panel for interleaved 1F1B with v chunks when `schedule` is kInterleaved, as SVG.
// Each box is <rect class="op fwd|bwd" data-schedule=.. data-stage=.. data-mb=.. x y width
// height .. data-chunk=..>; chunks are shaded (lighter = later chunk).
std::string timeline_svg(int stages, int micro_batches, double t_forward, double t_backward,
                         Schedule schedule = Schedule::k1F1B, int virtual_stages = 1);
// Writes timeline_svg(...) to `path`; refuses to overwrite an existing file, an interleaved
// m that is not a multiple of p, and pictures too large to draw (input errors).
void timeline_write(const std::string& path, int stages, int micro_batches, double t_forward,
                    double t_backward, Schedule schedule = Schedule::k1F1B,
                    int virtual_stages = 1);

}  // namespace weft::plan
