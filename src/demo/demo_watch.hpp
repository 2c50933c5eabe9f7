// Runs one in-process training stage of `weft demo` on a worker thread while the
// calling thread draws its progress bar from the stage's metrics.jsonl (one line per
// step, appended by rank 0) — so the stages need no progress hook of their own.
// Main thread only; the body's exception is rethrown here.
#pragma once

#include <functional>
#include <string>

namespace weft::demo {

struct DemoWatchState {
  int steps = 0;        // largest "step" of the complete lines of metrics.jsonl
  double value = 0;     // last value of `key`
  double val_value = 0; // last value of "val_" + key (0 when none)
};

// Reads the complete lines of `metrics_path` (a half-written last line is ignored).
DemoWatchState demo_read_metrics(const std::string& metrics_path, const std::string& key);

// Polls `metrics_path` every 0.25 s while `running()` is true, drawing a bar of
// `total_steps`. Returns the last state.
DemoWatchState demo_watch(const std::string& label, int total_steps, const std::string& metrics_path,
                          const std::string& key, bool progress, const std::function<bool()>& running);

// Runs body on a worker thread under demo_watch.
DemoWatchState demo_run_watched(const std::string& label, int total_steps,
                                const std::string& metrics_path, const std::string& key,
                                bool progress, const std::function<void()>& body);

}  // namespace weft::demo
