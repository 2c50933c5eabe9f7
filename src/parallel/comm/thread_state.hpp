// Internal shared state of the thread backend (thread_communicator.hpp): the world,
// its groups (one per communicator, shared by the members) and pending operations.
// Everything marked "under mu" is guarded by ThreadWorldState::mu; the one
// condition variable `cv` is notified on every change. Not for use outside comm/.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "parallel/comm/communicator.hpp"

namespace weft::comm::detail {

enum class CollKind { kAllReduce, kReduceScatter, kAllGather, kBroadcast, kBarrier };
std::string_view coll_kind_name(CollKind kind);

// One collective, shared by all members' Requests.
struct CollOp {
  CollKind kind;
  DType dtype;
  ReduceOp op;
  std::size_t count;  // elements per rank (see Communicator)
  int root;
  std::uint64_t seq;    // position in the communicator's order of collectives
  std::string context;  // the first arriver's context string

  // Per member; set at arrival (under mu), read-only once all have arrived.
  std::vector<const void*> send;
  std::vector<void*> recv;
  std::vector<char> arrived;
  int n_arrived = 0;                     // under mu
  std::atomic<bool> all_arrived{false};  // set under mu

  // Work split into chunks; claimed with next_chunk by whoever makes progress.
  std::size_t chunk_elems = 0;
  std::size_t chunks_per_part = 0;  // chunks per rank's part (reduce_scatter/all_gather)
  std::size_t n_chunks = 0;
  std::atomic<std::size_t> next_chunk{0};
  int active = 0;               // threads inside chunk work (under mu)
  std::size_t done_chunks = 0;  // under mu
  bool complete = false;        // under mu
};

// One point-to-point message half (a send or a receive) waiting for its match.
struct P2pPost {
  enum class State { kQueued, kCopying, kDone, kAbandoned };
  const void* send = nullptr;  // set on send posts
  void* recv = nullptr;        // set on receive posts
  std::size_t count = 0;
  DType dtype = DType::kU8;
  State state = State::kQueued;  // under mu
  std::string error;             // size/type mismatch found at matching (under mu)
};

// The shared side of one communicator.
struct Group {
  int id = 0;
  std::vector<int> world_ranks;                              // member → world rank
  std::map<std::uint64_t, std::shared_ptr<CollOp>> pending;  // not yet all arrived
  std::vector<std::uint64_t> entered;                        // collectives started per member
  std::vector<std::string> last_started;                     // description per member
  // (src member, dst member, tag) → FIFO of unmatched posts.
  std::map<std::tuple<int, int, int>, std::deque<std::shared_ptr<P2pPost>>> sends, recvs;
};

struct ThreadWorldState {
  int size = 0;
  Options options;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::atomic<bool> failed{false};  // set under mu
  int failed_rank = -1;             // world rank (under mu)
  ErrorKind failure_kind = ErrorKind::kComm;
  std::string failure;     // under mu
  std::vector<char> left;  // world ranks that returned (under mu)
  std::shared_ptr<Group> world_group;
  // (parent group id, split number, color) → group; first member creates it.
  std::map<std::tuple<int, std::uint64_t, int>, std::shared_ptr<Group>> splits;
  int next_group_id = 1;

  // Under mu: record the first failure and wake everyone.
  void fail_locked(int world_rank, ErrorKind kind, const std::string& reason);
  // Under mu: the error a waiter throws once the world has failed.
  Error failure_error_locked(std::string_view what) const;
};

// Works on up to `max_chunks` of op's chunks (fewer when none is left or the
// world failed). Called without mu.
void coll_work(ThreadWorldState& world, CollOp& op, std::size_t max_chunks);
// Sets up the chunking of op from its kind and count (once, at creation).
void coll_plan_chunks(CollOp& op, int members);

}  // namespace weft::comm::detail
