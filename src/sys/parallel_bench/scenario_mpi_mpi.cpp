// MPI part of scenarios 4 and 5 (built only with WEFT_HAVE_MPI): rank 0 hands the
// sharing buffer to rank 1 with MPI_Send/MPI_Recv (rank 1 checks every byte and
// acknowledges), then the two ping-pong for each message size. Other ranks only
// initialise and finalise. MPI is finalised before returning when this call
// initialised it, so the caller may fork afterwards. Main thread only.
// C API only: Open MPI would otherwise pull in its C++ bindings, which MPI::MPI_C does not link.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <climits>

#include "core/aligned_buffer.hpp"
#include "core/error.hpp"
#include "sys/parallel_bench/kernels.hpp"
#include "sys/parallel_bench/pingpong.hpp"
#include "sys/parallel_bench/scenarios.hpp"
#include "sys/parallel_bench/stats.hpp"
#include "sys/parallel_bench/sync.hpp"

namespace weft::sys::pbench {
namespace {

constexpr int kTagData = 11, kTagAck = 12, kTagPing = 13;
constexpr std::size_t kMaxMessage = std::size_t{1} << 30;  // MPI counts are int

void send_bytes(const void* data, std::size_t bytes, int peer, MPI_Comm comm) {
  const auto* p = static_cast<const char*>(data);
  for (std::size_t off = 0; off < bytes; off += kMaxMessage)
    MPI_Send(p + off, static_cast<int>(std::min(kMaxMessage, bytes - off)), MPI_BYTE, peer, kTagData, comm);
}

void recv_bytes(void* data, std::size_t bytes, int peer, MPI_Comm comm) {
  auto* p = static_cast<char*>(data);
  for (std::size_t off = 0; off < bytes; off += kMaxMessage)
    MPI_Recv(p + off, static_cast<int>(std::min(kMaxMessage, bytes - off)), MPI_BYTE, peer, kTagData, comm,
             MPI_STATUS_IGNORE);
}

// Rank 0 sends, rank 1 receives and checks; returns the row on rank 0.
TransferRow transfer(int rank, MPI_Comm pair, const Options& options) {
  TransferRow row;
  row.transport = "process_mpi";
  row.between = "processes";
  const std::size_t bytes = options.share_bytes / 8 * 8;
  const int repeats = std::max(1, options.share_repeats);
  AlignedBuffer<uint64_t> buffer(bytes / 8);  // (bytes/8,) rank 0: source; rank 1: destination
  std::vector<double> ms;
  bool all_ok = true;
  for (int r = 0; r < repeats; ++r) {
    const uint64_t seed = static_cast<uint64_t>(r) + 1;
    int ok = 0;
    if (rank == 0) pattern_fill(buffer.data(), bytes, seed);
    MPI_Barrier(pair);
    if (rank == 0) {
      const double t0 = now_s();
      send_bytes(buffer.data(), bytes, 1, pair);
      MPI_Recv(&ok, 1, MPI_INT, 1, kTagAck, pair, MPI_STATUS_IGNORE);  // sent right after the data landed
      ms.push_back((now_s() - t0) * 1e3);
    } else {
      recv_bytes(buffer.data(), bytes, 0, pair);
      const int received = 1;
      MPI_Send(&received, 1, MPI_INT, 0, kTagAck, pair);
      ok = pattern_check(buffer.data(), bytes, seed) ? 1 : 0;
      std::fill(buffer.begin(), buffer.end(), 0);
    }
    MPI_Bcast(&ok, 1, MPI_INT, 1, pair);  // rank 1's verdict
    all_ok = all_ok && ok == 1;
  }
  if (!all_ok) throw Error(ErrorKind::kComm, "MPI transfer: rank 1 received bytes that differ from the source");
  row.ms = median(ms);
  row.gbps = static_cast<double>(bytes) / (row.ms * 1e-3) / 1e9;
  row.verified = true;
  row.note = "MPI_Send/MPI_Recv, ack included";
  return row;
}

PingPongRow pingpong(int rank, MPI_Comm pair, const Options& options) {
  PingPongRow row;
  row.transport = "process_mpi";
  row.between = "processes";
  std::size_t max_bytes = 8;
  for (std::size_t s : options.pingpong_sizes) max_bytes = std::max(max_bytes, pingpong_message_bytes(s));
  AlignedBuffer<uint64_t> out(max_bytes / 8), in(max_bytes / 8);  // (max_bytes/8,) scratch
  row.verified = true;
  int bad = 0;
  for (std::size_t size : options.pingpong_sizes) {
    const std::size_t bytes = pingpong_message_bytes(size);
    const int count = static_cast<int>(bytes);
    if (rank == 0) {
      const RoundTrip trip = [&](const uint64_t* o, uint64_t* r, std::size_t b) {
        MPI_Send(o, static_cast<int>(b), MPI_BYTE, 1, kTagPing, pair);
        MPI_Recv(r, static_cast<int>(b), MPI_BYTE, 1, kTagPing, pair, MPI_STATUS_IGNORE);
        return true;
      };
      const PingStats s = ping_side(trip, out.data(), in.data(), bytes, options.pingpong_budget_s);
      if (!s.ok) bad = 1;
      row.verified = row.verified && s.verified;
      out[0] = kPingStop;
      MPI_Send(out.data(), count, MPI_BYTE, 1, kTagPing, pair);
      MPI_Recv(in.data(), count, MPI_BYTE, 1, kTagPing, pair, MPI_STATUS_IGNORE);  // stop echoed
      PingPongPoint p;
      p.bytes = size;
      p.one_way_us = s.rtt_s / 2 * 1e6;
      p.gbps = s.rtt_s > 0 ? static_cast<double>(bytes) / (s.rtt_s / 2) / 1e9 : 0;
      p.round_trips = s.round_trips;
      row.points.push_back(p);
    } else {
      for (;;) {
        MPI_Recv(in.data(), count, MPI_BYTE, 0, kTagPing, pair, MPI_STATUS_IGNORE);
        bool stop = false;
        if (!pong_prepare_reply(in.data(), bytes, &stop)) {
          bad = 1;
          in[0] = 0;  // the ping side rejects it and stops
        }
        MPI_Send(in.data(), count, MPI_BYTE, 0, kTagPing, pair);
        if (stop) break;
      }
    }
  }
  MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, pair);
  if (bad != 0) throw Error(ErrorKind::kComm, "MPI ping-pong: a message arrived different from what was sent");
  return row;
}

}  // namespace

MpiResult run_mpi_scenarios(const Options& options) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (initialised == 0) MPI_Init(nullptr, nullptr);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MpiResult result;
  result.root = rank == 0;
  if (size < 2) {
    result.transfer.transport = result.pingpong.transport = "process_mpi";
    result.transfer.between = result.pingpong.between = "processes";
    result.transfer.available = result.pingpong.available = false;
    result.transfer.note = result.pingpong.note = "needs at least 2 MPI ranks (mpirun -np 2)";
  } else {
    MPI_Comm pair = MPI_COMM_NULL;
    MPI_Comm_split(MPI_COMM_WORLD, rank < 2 ? 0 : MPI_UNDEFINED, rank, &pair);
    if (pair != MPI_COMM_NULL) {
      result.transfer = transfer(rank, pair, options);
      result.pingpong = pingpong(rank, pair, options);
      MPI_Comm_free(&pair);
    }
  }
  if (initialised == 0) MPI_Finalize();
  return result;
}

}  // namespace weft::sys::pbench
