// Analytic per-step communication volume per axis. See comm_volume.hpp.
#include "parallel/comm_volume.hpp"

namespace weft::parallel {

std::uint64_t comm_shard_params(const model::GptConfig& c, int stage_layers, int tp) {
  const std::uint64_t C = static_cast<std::uint64_t>(c.n_embd);
  const std::uint64_t Vp = static_cast<std::uint64_t>(c.padded_vocab);
  const std::uint64_t maxT = static_cast<std::uint64_t>(c.max_seq);
  const std::uint64_t t = static_cast<std::uint64_t>(tp);
  // Per block: qkvw 3C·C/tp, qkvb 3C/tp, attprojw C·C/tp, attprojb C, fcw 4C·C/tp,
  // fcb 4C/tp, fcprojw 4C·C/tp, fcprojb C, ln1 and ln2 weight and bias 4C.
  const std::uint64_t block = 12 * C * C / t + 7 * C / t + 6 * C;
  return Vp * C / t + maxT * C + 2 * C + static_cast<std::uint64_t>(stage_layers) * block;
}

CommVolume comm_volume_formula(const CommVolumeSetup& s) {
  CommVolume v;
  const double C = s.config.n_embd, Vp = s.config.padded_vocab;
  const double BT = static_cast<double>(s.B) * s.T, m = s.micro, L = s.stage_layers;
  const bool first = s.coord.pp == 0, last = s.coord.pp + 1 == s.shape.pp;
  const double act = 4.0 * BT * C;  // one (B, T, C) fp32 tensor
  if (s.shape.tp > 1) {
    // Per micro-batch: 2 all-reduces per block forward (row-parallel outputs) and 2
    // backward (column-parallel input grads); the first stage's embedding sum; the
    // last stage's LM-head input grad and vocab-parallel CE statistics (max, Σexp and
    // target logit: 3 doubles per row). Per step: the grad norm (1 double).
    v.tp = m * (act * (4 * L + (first ? 1 : 0) + (last ? 1 : 0)) + (last ? 24.0 * BT : 0.0)) + 8;
  }
  if (s.shape.pp > 1) {
    // Per micro-batch: the activation to the next stage, its gradient back; each is
    // sent once and received once. Per step: the tied wte gradient (last → first)
    // and the updated wte (first → last), this tp rank's Vp/tp rows; the grad norm.
    const double boundaries = (first ? 0 : 1) + (last ? 0 : 1);
    const double wte = (first || last) ? 4.0 * Vp * C / s.shape.tp : 0.0;
    v.pp_sent = m * act * boundaries + wte;
    v.pp = 2 * v.pp_sent + 8;
  }
  if (s.shape.dp > 1) {
    const double psi = 4.0 * static_cast<double>(comm_shard_params(s.config, s.stage_layers, s.shape.tp));
    // Gradients once per step (only the last micro-batch reduces): all-reduce (ZeRO-0)
    // or reduce-scatter (ZeRO-1/2, ranges not divisible by dp keep a tail that is
    // all-reduced instead: same bytes); ZeRO-1/2 then all-gather the parameters and
    // all-reduce the norm's partial sum. Without a pipeline the loss (2 doubles) is
    // all-reduced over dp (with one, over the world).
    if (s.zero == 0)
      v.dp = psi;
    else if (s.zero <= 2)
      v.dp = 2 * psi + 8;
    else if (s.shape.pp == 1 && s.shape.tp == 1) {
      // ZeRO-3: the gradients as ZeRO-1, and per micro-batch every unit's parameters
      // all-gathered where used: the embedding (wte, wpe) 3 times (embedding and LM
      // head forward, LM head backward), every layer and the final LayerNorm twice
      // (forward, backward); no all-gather after the step.
      const double E = 4.0 * (Vp * C + static_cast<double>(s.config.max_seq) * C);
      const double head = 4.0 * 2 * C;
      const double layers = psi - E - head;
      v.dp = psi + 8 + m * (3 * E + 2 * head + 2 * layers);
    } else {
      v.dp = -1;
    }
    if (v.dp >= 0 && s.shape.pp == 1) v.dp += 16;
    // Early wte: the touched-row map (Vp bytes, max over dp), then the touched rows
    // (R x C floats) all-reduced once more after the embedding backward.
    if (v.dp >= 0 && s.wte_late_rows >= 0 && s.shape.tp == 1 && s.shape.pp == 1)
      v.dp += Vp + 4.0 * s.wte_late_rows * C;
  }
  return v;
}

}  // namespace weft::parallel
