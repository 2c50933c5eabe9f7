// Pipeline schedules as plain lists of actions: which micro-batch a stage runs
// forward or backward, in order. GPipe: all m forwards, then all m backwards.
// 1F1B (PipeDream-flush, as Megatron's non-interleaved schedule): stage s runs
// pp-s-1 warm-up forwards, then alternates one forward / one backward, then the
// remaining backwards; so at most pp-s micro-batches are in flight on stage s.
// Know nothing of models or communication. Value types; any thread.
#pragma once

#include <string_view>
#include <vector>

namespace weft::parallel {

enum class PipeSchedule { kGpipe, k1F1B };

// "gpipe" or "1f1b"; anything else is an input error naming --schedule.
PipeSchedule parse_pipe_schedule(std::string_view text);
std::string_view pipe_schedule_name(PipeSchedule schedule);

struct PipeAction {
  bool forward = true;  // false: backward
  int micro = 0;        // micro-batch index in [0, m)
};

// The actions of stage `stage` of `stages` over m micro-batches. Forwards and
// backwards each come in micro-batch order 0..m-1 on every stage.
std::vector<PipeAction> pipe_actions(PipeSchedule schedule, int stage, int stages, int m);

// Most micro-batches whose activations are alive at once on `stage` (forward done,
// backward not yet): m for GPipe, min(pp - stage, m) for 1F1B.
int pipe_max_in_flight(PipeSchedule schedule, int stage, int stages, int m);

// The idle fraction of an ideal pipeline with equal stage times: (pp-1)/(m+pp-1).
double pipe_bubble_theory(int stages, int m);

}  // namespace weft::parallel
