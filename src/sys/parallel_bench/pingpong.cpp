// Ping-pong protocol, see pingpong.hpp.
#include "sys/parallel_bench/pingpong.hpp"

#include <algorithm>
#include <vector>

#include "sys/parallel_bench/kernels.hpp"
#include "sys/parallel_bench/stats.hpp"
#include "sys/parallel_bench/sync.hpp"

namespace weft::sys::pbench {

std::size_t pingpong_message_bytes(std::size_t bytes) { return std::max<std::size_t>(8, (bytes + 7) / 8 * 8); }

PingStats ping_side(const RoundTrip& round_trip, uint64_t* out, uint64_t* in, std::size_t bytes,
                    double budget_s) {
  PingStats stats;
  const std::size_t payload = bytes - 8;
  uint64_t seq = 2;  // even: ping's numbers; the reply carries seq + 1
  // Checked round trips: both payloads are full patterns, checked on both sides.
  for (int i = 0; i < 3; ++i, seq += 2) {
    out[0] = seq | kPingVerify;
    pattern_fill(out + 1, payload, seq);
    if (!round_trip(out, in, bytes)) return stats;
    if (in[0] != ((seq + 1) | kPingVerify) || !pattern_check(in + 1, payload, seq + 1)) return stats;
  }
  stats.verified = true;
  // Timed batches: only the header changes; the pong checks it and echoes the payload.
  std::vector<double> rtts;
  uint64_t batch = 4;
  const double start = now_s();
  for (;;) {
    const double t0 = now_s();
    for (uint64_t k = 0; k < batch; ++k, seq += 2) {
      out[0] = seq;
      if (!round_trip(out, in, bytes) || in[0] != seq + 1) return stats;
    }
    const double t = now_s() - t0;
    rtts.push_back(t / static_cast<double>(batch));
    stats.round_trips += batch;
    const double elapsed = now_s() - start;
    if ((elapsed >= budget_s && rtts.size() >= 5) || elapsed >= 3 * budget_s) break;
    // Aim for about 20 batches per budget.
    const double per = std::max(t / static_cast<double>(batch), 1e-8);
    batch = std::clamp<uint64_t>(static_cast<uint64_t>(budget_s / 20 / per), 1, 1u << 20);
  }
  stats.rtt_s = median(rtts);
  stats.ok = true;
  return stats;
}

bool pong_prepare_reply(uint64_t* message, std::size_t bytes, bool* stop) {
  const uint64_t header = message[0];
  *stop = (header & kPingStop) != 0;
  if (*stop) return true;
  const uint64_t seq = header & kPingSeqMask;
  if ((header & kPingVerify) != 0) {
    if (!pattern_check(message + 1, bytes - 8, seq)) return false;
    pattern_fill(message + 1, bytes - 8, seq + 1);
  }
  message[0] = header + 1;  // seq + 1, flags kept
  return true;
}

}  // namespace weft::sys::pbench
