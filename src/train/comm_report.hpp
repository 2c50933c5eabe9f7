// Per-step communication bytes of `weft train` per grid axis: measured by the axis
// communicators' counters (parallel/grid.hpp take_bytes) around each optimizer step,
// next to the analytic formula (parallel/comm_volume.hpp). Rows go to metrics.jsonl
// (rank 0's); at the end every rank's last step is gathered and rank 0 prints one
// line per rank. Holds a reference to the grid (caller-owned). The rank's training
// thread calls everything; finish() is collective over the world.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "parallel/comm_volume.hpp"
#include "parallel/grid.hpp"

namespace weft::train {

// One rank's last training step: measured payload bytes per axis and the formula.
struct CommCheck {
  int rank = 0;
  double measured[3] = {0, 0, 0};  // dp, tp, pp
  double formula[3] = {0, 0, 0};   // dp, tp, pp (< 0: no formula)
  bool steps_match = true;         // every step's measured bytes equal its formula
  bool matches() const;
};

class CommReport {
 public:
  CommReport(parallel::Grid& grid, const parallel::CommVolumeSetup& setup);
  void begin_step();  // discards what moved outside a step (validation, reports)
  // This step's counts, and its formula (wte_late_rows: CommVolumeSetup's, this step).
  void end_step(int wte_late_rows = -1);
  // {"dp": bytes, "tp": ..., "pp": ...} of the last step (axes of size 1 left out).
  nlohmann::json json() const;
  // Collective over the world: every rank's CommCheck (rank 0 gets them all, the
  // others an empty vector); rank 0 prints them unless quiet.
  std::vector<CommCheck> finish(comm::Communicator& world, bool quiet);

 private:
  parallel::Grid& grid_;
  parallel::CommVolumeSetup setup_;
  parallel::CommVolume formula_;  // of the last step
  double last_[3] = {0, 0, 0};
  bool steps_match_ = true;
};

// The report for this rank: full model config, this stage's block count, this dp
// rank's rows B, sequence T, micro-batches per step, ZeRO stage.
std::unique_ptr<CommReport> make_comm_report(parallel::Grid& grid, const model::GptConfig& full,
                                             int stage_layers, int B, int T, int micro, int zero);

}  // namespace weft::train
