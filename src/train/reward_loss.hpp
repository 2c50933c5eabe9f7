// The pairwise (Bradley–Terry) loss of reward modelling: loss = −log σ(r_c − r_r),
// computed stably as softplus(r_r − r_c), and its gradient. Pure; any thread.
#pragma once

#include <cmath>

namespace weft::train {

struct PairLoss {
  double loss = 0.0;
  double dchosen = 0.0;  // d loss / d r_chosen; d loss / d r_rejected = −dchosen
  double credit = 0.0;   // accuracy credit: 1 if r_chosen > r_rejected, 0.5 on a tie, else 0
};

inline PairLoss pair_loss(double r_chosen, double r_rejected) {
  const double d = r_chosen - r_rejected;
  PairLoss l;
  // softplus(−d) = max(−d, 0) + log1p(exp(−|d|))
  l.loss = std::fmax(-d, 0.0) + std::log1p(std::exp(-std::fabs(d)));
  l.dchosen = -1.0 / (1.0 + std::exp(d));  // −σ(−d)
  l.credit = d > 0 ? 1.0 : d == 0 ? 0.5 : 0.0;
  return l;
}

}  // namespace weft::train
