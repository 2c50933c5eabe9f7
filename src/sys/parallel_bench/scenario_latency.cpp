// Scenario 5, message latency and bandwidth: ping-pong between two workers for a
// few message sizes, over shared-memory atomics (spinning or futex sleeping),
// condition variables (threads) and pipes (processes). The same shared-memory code
// runs between threads and between processes, so the rows compare like with like.
#include <algorithm>

#include "core/aligned_buffer.hpp"
#include "core/error.hpp"
#include "sys/parallel_bench/channels.hpp"
#include "sys/parallel_bench/pingpong.hpp"
#include "sys/parallel_bench/scenarios.hpp"
#include "sys/parallel_bench/workers.hpp"

namespace weft::sys::pbench {
namespace {

constexpr std::size_t kMaxSizes = 16;

struct Results {  // in shared memory, written by the ping side
  PingStats stats[kMaxSizes];
};

struct TransportSpec {
  const char* key;
  WorkerKind kind;
  std::unique_ptr<Channel> (*make)(std::size_t max_bytes);
};

std::unique_ptr<Channel> make_spin(std::size_t n) { return make_shm_channel(n, WaitPolicy::kSpin); }
std::unique_ptr<Channel> make_futex(std::size_t n) { return make_shm_channel(n, WaitPolicy::kSleep); }

int ping_worker(Endpoint& ep, const std::vector<std::size_t>& sizes, std::size_t max_bytes,
                const Options& options, Results* results) {
  AlignedBuffer<uint64_t> out(max_bytes / 8), in(max_bytes / 8);  // (max_bytes/8,) scratch
  int code = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const std::size_t bytes = pingpong_message_bytes(sizes[i]);
    if (code == 0) {
      const RoundTrip trip = [&](const uint64_t* o, uint64_t* r, std::size_t b) {
        const Deadline deadline = Deadline::in(options.peer_timeout_s);
        return ep.send(o, b, deadline) && ep.recv(r, b, deadline);
      };
      results->stats[i] = ping_side(trip, out.data(), in.data(), bytes, options.pingpong_budget_s);
      if (!results->stats[i].ok) code = results->stats[i].verified ? kWorkerTimeout : kWorkerCheckFailed;
    }
    // Ends this size on the pong side (also after a failure). The pong echoes it, so
    // the slot is free again before the next size's first message overwrites it.
    out[0] = kPingStop;
    const Deadline deadline = Deadline::in(options.peer_timeout_s);
    if (!ep.send(out.data(), bytes, deadline) || !ep.recv(in.data(), bytes, deadline)) return kWorkerTimeout;
  }
  return code;
}

int pong_worker(Endpoint& ep, const std::vector<std::size_t>& sizes, std::size_t max_bytes,
                const Options& options) {
  AlignedBuffer<uint64_t> message(max_bytes / 8);  // (max_bytes/8,) received and echoed in place
  int code = 0;
  for (std::size_t size : sizes) {
    const std::size_t bytes = pingpong_message_bytes(size);
    for (;;) {
      if (!ep.recv(message.data(), bytes, Deadline::in(options.peer_timeout_s))) return kWorkerTimeout;
      bool stop = false;
      if (!pong_prepare_reply(message.data(), bytes, &stop)) {
        code = kWorkerCheckFailed;
        message[0] = 0;  // a reply the ping side rejects, so it stops instead of waiting
      }
      if (!ep.send(message.data(), bytes, Deadline::in(options.peer_timeout_s))) return kWorkerTimeout;
      if (stop) break;
    }
  }
  return code;
}

PingPongRow measure(const TransportSpec& spec, const Options& options) {
  PingPongRow row;
  row.transport = spec.key;
  row.between = worker_kind_name(spec.kind);
  const auto& sizes = options.pingpong_sizes;
  WEFT_CHECK(!sizes.empty() && sizes.size() <= kMaxSizes);
  std::size_t max_bytes = 0;
  for (std::size_t s : sizes) max_bytes = std::max(max_bytes, pingpong_message_bytes(s));

  auto channel = spec.make(max_bytes);
  SharedRegion results_region(sizeof(Results));
  auto* results = results_region.construct<Results>();
  const auto outcomes = run_workers(spec.kind, 2, [&](int w) {
    auto ep = channel->endpoint(w);
    return w == 0 ? ping_worker(*ep, sizes, max_bytes, options, results)
                  : pong_worker(*ep, sizes, max_bytes, options);
  });
  require_all_ok(outcomes, str("latency scenario (", row.transport, ")"));
  row.verified = true;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const PingStats& s = results->stats[i];
    row.verified = row.verified && s.verified;
    PingPongPoint p;
    p.bytes = sizes[i];
    p.one_way_us = s.rtt_s / 2 * 1e6;
    p.gbps = s.rtt_s > 0 ? static_cast<double>(pingpong_message_bytes(sizes[i])) / (s.rtt_s / 2) / 1e9 : 0;
    p.round_trips = s.round_trips;
    row.points.push_back(p);
  }
  return row;
}

}  // namespace

LatencyResult run_latency(const Options& options) {
  const TransportSpec specs[] = {
      {"thread_spin", WorkerKind::kThread, make_spin},
      {"thread_futex", WorkerKind::kThread, make_futex},
      {"thread_condvar", WorkerKind::kThread, make_condvar_channel},
      {"process_spin", WorkerKind::kProcess, make_spin},
      {"process_futex", WorkerKind::kProcess, make_futex},
      {"process_pipe", WorkerKind::kProcess, make_pipe_channel},
  };
  LatencyResult result;
  for (const auto& spec : specs) result.rows.push_back(measure(spec, options));
  return result;
}

}  // namespace weft::sys::pbench
