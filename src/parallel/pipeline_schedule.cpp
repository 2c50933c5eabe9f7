// GPipe and 1F1B action lists. See pipeline_schedule.hpp.
#include "parallel/pipeline_schedule.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace weft::parallel {

PipeSchedule parse_pipe_schedule(std::string_view text) {
  if (text == "gpipe") return PipeSchedule::kGpipe;
  if (text == "1f1b") return PipeSchedule::k1F1B;
  throw input_error(str("--schedule '", text, "': expected gpipe or 1f1b"));
}

std::string_view pipe_schedule_name(PipeSchedule s) {
  return s == PipeSchedule::kGpipe ? "gpipe" : "1f1b";
}

std::vector<PipeAction> pipe_actions(PipeSchedule schedule, int stage, int stages, int m) {
  WEFT_CHECK(stages >= 1 && stage >= 0 && stage < stages && m >= 1);
  std::vector<PipeAction> out;
  out.reserve(static_cast<std::size_t>(2 * m));
  if (schedule == PipeSchedule::kGpipe) {
    for (int i = 0; i < m; ++i) out.push_back({true, i});
    for (int i = 0; i < m; ++i) out.push_back({false, i});
    return out;
  }
  const int warmup = std::min(stages - stage - 1, m);
  int f = 0, b = 0;
  for (; f < warmup; ++f) out.push_back({true, f});
  while (f < m) {  // steady state: one forward, then the oldest backward
    out.push_back({true, f++});
    out.push_back({false, b++});
  }
  while (b < m) out.push_back({false, b++});  // cool-down
  return out;
}

int pipe_max_in_flight(PipeSchedule schedule, int stage, int stages, int m) {
  int alive = 0, peak = 0;
  for (const PipeAction& a : pipe_actions(schedule, stage, stages, m)) {
    alive += a.forward ? 1 : -1;
    peak = std::max(peak, alive);
  }
  return peak;
}

double pipe_bubble_theory(int stages, int m) {
  return static_cast<double>(stages - 1) / static_cast<double>(m + stages - 1);
}

}  // namespace weft::parallel
