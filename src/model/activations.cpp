// Carves the activation arena. See activations.hpp.
#include "model/activations.hpp"

#include "kernels/cpu/attention.hpp"

namespace weft::model {
namespace {

// Walks the buffer list once: with base == nullptr it only counts.
std::size_t carve(ActivationArena& a, const GptConfig& c, int B, int T, bool with_backward,
                  int tp, bool with_head, float* base) {
  const std::size_t L = c.n_layer, C = c.n_embd;
  // This tp rank's shard of the split buffers (all of them when tp = 1).
  const std::size_t NH = c.n_head / tp, Vp = c.padded_vocab / tp, Cs = C / tp;
  const std::size_t BT = static_cast<std::size_t>(B) * T;
  std::size_t at = 0;
  auto take = [&](float*& ptr, std::size_t n) {
    ptr = base ? base + at : nullptr;
    at += (n + 15) / 16 * 16;  // keep every buffer 64-byte aligned
  };
  a.stride_btc = BT * C;
  a.stride_btc_tp = BT * Cs;
  a.tp = tp;
  a.stride_bt = BT;
  a.stride_att = static_cast<std::size_t>(B) * NH * T * T;
  take(a.encoded, BT * C);
  take(a.ln1, L * BT * C);
  take(a.ln1_mean, L * BT);
  take(a.ln1_rstd, L * BT);
  take(a.qkv, L * BT * 3 * Cs);
  take(a.atty, L * BT * Cs);
  take(a.att, L * a.stride_att);
  take(a.residual2, L * BT * C);
  take(a.ln2, L * BT * C);
  take(a.ln2_mean, L * BT);
  take(a.ln2_rstd, L * BT);
  take(a.fch, L * BT * 4 * Cs);
  take(a.fch_gelu, L * BT * 4 * Cs);
  take(a.residual3, L * BT * C);
  if (with_head) {
    take(a.lnf, BT * C);
    take(a.lnf_mean, BT);
    take(a.lnf_rstd, BT);
    take(a.logits, BT * Vp);
    take(a.losses, BT);
  } else {
    a.lnf = a.lnf_mean = a.lnf_rstd = a.logits = a.losses = nullptr;
  }
  a.att_scratch_floats = with_backward ? cpu::attention_backward_scratch_size(T) : 0;
  if (with_backward) {
    take(a.dresidual, BT * C);
    take(a.dbuf, BT * C);
    take(a.dqkv, BT * 3 * Cs);
    take(a.dfch, BT * 4 * Cs);
    take(a.att_scratch, a.att_scratch_floats);
  } else {
    a.dresidual = a.dbuf = a.dqkv = a.dfch = a.att_scratch = nullptr;
  }
  return at;
}

}  // namespace

void ActivationArena::allocate(const GptConfig& config, int b, int t, bool with_backward,
                               int tp_size, bool with_head) {
  B = b;
  T = t;
  const std::size_t n = carve(*this, config, b, t, with_backward, tp_size, with_head, nullptr);
  // Not zeroed: every buffer is written before it is read. Touching the pages once
  // here would only move the first-touch cost; leave it to the first step.
  memory.allocate(n, /*zero=*/false);
  carve(*this, config, b, t, with_backward, tp_size, with_head, memory.data());
}

std::size_t ActivationArena::floats_needed(const GptConfig& config, int B, int T,
                                           bool with_backward, int tp_size, bool with_head) {
  ActivationArena scratch;
  return carve(scratch, config, B, T, with_backward, tp_size, with_head, nullptr);
}

}  // namespace weft::model
