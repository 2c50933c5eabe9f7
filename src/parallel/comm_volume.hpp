// The analytic communication volume of one training step, per rank and per grid
// axis, from the model's dimensions and the layout alone (docs/parallel.md
// "Communication volume"). It is the formula the measured counters of the axis
// communicators (comm/counting_communicator.hpp) are checked against; it does not
// look at any plan or buffer the training code builds. Pure functions.
#pragma once

#include <cstdint>

#include "model/gpt_config.hpp"
#include "parallel/grid.hpp"

namespace weft::parallel {

struct CommVolumeSetup {
  model::GptConfig config;  // the whole model (all layers)
  GridShape shape;
  GridCoord coord;
  int stage_layers = 0;  // blocks of this rank's pipeline stage (all L when pp = 1)
  int B = 1, T = 1;      // this dp rank's rows of one micro-batch, sequence length
  int micro = 1;         // micro-batches per step (pp: m; else --grad-accum)
  int zero = 0;          // ZeRO stage on the dp axis
  // DP's early wte reduction (dp_wte_split.hpp; dp > 1, tp = pp = 1): the distinct
  // wte rows the last micro-batch's tokens touch over all dp ranks, a fact of the
  // data that changes every step. < 0: wte is reduced late, within its bucket.
  int wte_late_rows = -1;
};

// Payload bytes per step (as CommBytes counts them: all-reduce = buffer, reduce-
// scatter = input, all-gather = output, point-to-point = sent + received).
// dp < 0 where no formula is known (ZeRO-3 with tp or pp, both refused today).
struct CommVolume {
  double dp = 0, tp = 0, pp = 0;
  double pp_sent = 0;  // of pp: what this rank sends (activations, gradients, wte)
};

// Ψ of one (stage, tp) shard's flat buffer: Vp·C/tp + maxT·C + 2C +
// L_s·(12C²/tp + 7C/tp + 6C) (wte, wpe and lnf are kept on every stage).
std::uint64_t comm_shard_params(const model::GptConfig& config, int stage_layers, int tp);

CommVolume comm_volume_formula(const CommVolumeSetup& s);

}  // namespace weft::parallel
