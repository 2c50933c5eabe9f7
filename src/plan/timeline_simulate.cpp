// Pipeline schedule simulation (see timeline.hpp): each device's op order for GPipe, 1F1B
// and Megatron-LM's interleaved 1F1B, then a list schedule that starts every op as soon as
// its device and its dependencies allow. Returns plain values; any thread.
#include <algorithm>

#include "core/error.hpp"
#include "plan/timeline.hpp"

namespace weft::plan {

namespace {

struct Slot {
  int chunk, mb;
  bool fwd;
};

// The k-th forward (or backward) a device runs under interleaving. Micro-batches go in
// groups of p per chunk: forwards run chunk 0 for micro-batches 0..p−1, then chunk 1 for
// the same p, ..., then chunk 0 for p..2p−1; backwards walk the chunks in reverse
// (Megatron-LM's get_model_chunk_id). With v = 1 this is micro-batch k, chunk 0.
Slot interleaved_slot(int k, int p, int v, bool fwd) {
  const int chunk = (k % (p * v)) / p;
  return {fwd ? chunk : v - 1 - chunk, (k / (p * v)) * p + k % p, fwd};
}

// Op order of device s. GPipe: all forwards, then all backwards. 1F1B (v = 1): p − s − 1
// warm-up forwards, then one forward / one backward, then the remaining backwards.
// Interleaved (v ≥ 2, Narayanan et al. 2021 §2.2.2 as Megatron-LM runs it): the same
// three phases over m·v chunk-ops with (p − s − 1)·2 + (v − 1)·p warm-up forwards, capped
// at m·v; when m = p Megatron-LM runs every forward first (all warm-up).
std::vector<Slot> device_order(Schedule schedule, int p, int m, int v, int s) {
  std::vector<Slot> o;
  const int n = m * v;  // forwards (and backwards) this device runs
  o.reserve(static_cast<size_t>(2 * n));
  if (schedule == Schedule::kGPipe) {
    for (int i = 0; i < m; ++i) o.push_back({0, i, true});
    for (int i = 0; i < m; ++i) o.push_back({0, i, false});
    return o;
  }
  int warmup = std::min(p - s - 1, m);
  if (v > 1) warmup = m == p ? n : std::min((p - s - 1) * 2 + (v - 1) * p, n);
  for (int k = 0; k < warmup; ++k) o.push_back(interleaved_slot(k, p, v, true));
  for (int k = 0; k < n - warmup; ++k) {
    o.push_back(interleaved_slot(warmup + k, p, v, true));
    o.push_back(interleaved_slot(k, p, v, false));
  }
  for (int k = n - warmup; k < n; ++k) o.push_back(interleaved_slot(k, p, v, false));
  return o;
}

}  // namespace

std::vector<TimelineOp> timeline_simulate(Schedule schedule, int p, int m, double tf, double tb,
                                          int v) {
  WEFT_CHECK(p >= 1 && m >= 1 && v >= 1, "stages ", p, " micro-batches ", m, " chunks ", v);
  WEFT_CHECK(v == 1 || schedule == Schedule::kInterleaved, "only the interleaved schedule has ",
             v, " chunks per device");
  WEFT_CHECK(v == 1 || m % p == 0, "interleaved micro-batches ", m, " not a multiple of ", p);
  std::vector<std::vector<Slot>> order;
  for (int s = 0; s < p; ++s) order.push_back(device_order(schedule, p, m, v, s));
  // End time of forward / backward of (virtual stage q, micro-batch i) at [q·m + i]; −1 = not yet.
  const int q_count = p * v;
  std::vector<double> fwd_end(static_cast<size_t>(q_count * m), -1.0);
  std::vector<double> bwd_end(fwd_end.size(), -1.0);
  std::vector<size_t> next(static_cast<size_t>(p), 0);
  std::vector<double> free_at(static_cast<size_t>(p), 0.0);
  std::vector<TimelineOp> ops;
  const size_t total = static_cast<size_t>(2 * p * m * v);
  ops.reserve(total);
  while (ops.size() < total) {
    bool progressed = false;
    for (int s = 0; s < p; ++s) {
      auto& k = next[static_cast<size_t>(s)];
      if (k >= order[static_cast<size_t>(s)].size()) continue;
      const Slot slot = order[static_cast<size_t>(s)][k];
      const int q = slot.chunk * p + s;
      double ready = free_at[static_cast<size_t>(s)];
      auto need = [&](const std::vector<double>& end_of, int qq) {
        const double t = end_of[static_cast<size_t>(qq * m + slot.mb)];
        ready = std::max(ready, t);
        return t >= 0;
      };
      const bool ok = slot.fwd ? (q == 0 || need(fwd_end, q - 1))
                               : need(fwd_end, q) && (q == q_count - 1 || need(bwd_end, q + 1));
      if (!ok) continue;
      const double end = ready + (slot.fwd ? tf : tb) / v;
      ops.push_back({s, slot.chunk, slot.mb, slot.fwd, ready, end});
      (slot.fwd ? fwd_end : bwd_end)[static_cast<size_t>(q * m + slot.mb)] = end;
      free_at[static_cast<size_t>(s)] = end;
      ++k;
      progressed = true;
    }
    WEFT_CHECK(progressed, "pipeline schedule deadlocked");
  }
  return ops;
}

double timeline_makespan(const std::vector<TimelineOp>& ops) {
  double t = 0;
  for (const auto& op : ops) t = std::max(t, op.end);
  return t;
}

}  // namespace weft::plan
