// The ping-pong protocol shared by the local and MPI latency measurements: message
// framing (an 8-byte header: sequence number, "verify" and "stop" bits), payload
// checks, and the adaptive batching that yields a median round-trip time.
// Value types and pure functions; one thread per side.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace weft::sys::pbench {

inline constexpr uint64_t kPingStop = 1ull << 63;
inline constexpr uint64_t kPingVerify = 1ull << 62;
inline constexpr uint64_t kPingSeqMask = kPingVerify - 1;

// Message size actually sent for a requested size: at least the 8-byte header,
// rounded up to whole 8-byte words.
std::size_t pingpong_message_bytes(std::size_t bytes);

// One round trip: send `out`, receive into `in`; false on timeout/error.
using RoundTrip = std::function<bool(const uint64_t* out, uint64_t* in, std::size_t bytes)>;

struct PingStats {
  bool ok = false;        // every check passed and no timeout
  bool verified = false;  // the verify round trips matched in both directions
  double rtt_s = 0;       // median round trip
  uint64_t round_trips = 0;
};

// The ping side for one message size: 3 fully checked round trips, then timed
// batches for about `budget_s`; the caller sends the stop message afterwards.
// `out`/`in` are (bytes/8,) scratch buffers.
PingStats ping_side(const RoundTrip& round_trip, uint64_t* out, uint64_t* in, std::size_t bytes,
                    double budget_s);

// What the pong side does with a received message in place: checks a verify
// message's payload and turns it into the reply. Returns false when the payload is
// wrong. Sets *stop for the stop message (nothing to send back then).
bool pong_prepare_reply(uint64_t* message, std::size_t bytes, bool* stop);

}  // namespace weft::sys::pbench
