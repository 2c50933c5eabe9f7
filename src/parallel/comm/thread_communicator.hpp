// Thread backend: N ranks as threads of one process, collectives through shared
// memory. A ThreadWorld is created once by the launcher and hands each rank thread
// its Communicator (owned by that rank; the world's shared state lives as long as
// any of them). run_thread_ranks() is the usual way in.
//
// How a collective runs: each rank publishes its buffer pointers in the op's slot
// (start never blocks); once every member has arrived, whichever ranks are inside
// test()/wait() claim chunks of the result (atomic counter) and write each chunk
// into every member's output. Progress therefore happens in test()/wait(), as with
// MPI without an asynchronous progress thread. Reductions accumulate rank 0, 1, ...,
// N-1 in that order for every element, so results are bitwise identical on every
// rank and from run to run, whoever computes a chunk. (MPI's order depends on its
// algorithm: the two backends agree exactly only on exactly representable sums.)
//
// Faults: a rank whose function throws, or that returns while peers wait for it,
// fails the world; every waiter then throws an error naming that rank. A wait that
// passes the timeout names the members that did not arrive and fails the world.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "parallel/comm/communicator.hpp"

namespace weft::comm {

namespace detail {
struct ThreadWorldState;
}

class ThreadWorld {
 public:
  explicit ThreadWorld(int size, Options options = {});
  ~ThreadWorld();
  ThreadWorld(const ThreadWorld&) = delete;
  ThreadWorld& operator=(const ThreadWorld&) = delete;

  int size() const;
  // The world communicator of `rank`; call once per rank, from any thread.
  std::unique_ptr<Communicator> communicator(int rank);

  // Marks the world failed because world rank `rank` stopped (first call wins);
  // wakes every waiter. Thread-safe.
  void fail(int rank, ErrorKind kind, const std::string& reason);
  // World rank `rank` finished its work; peers still waiting for it fail at once.
  void leave(int rank);
  bool failed() const;
  int failed_rank() const;  // -1 when not failed

 private:
  std::shared_ptr<detail::ThreadWorldState> state_;
};

// Runs fn(comm) on `size` threads, one per rank, and joins them. If any rank
// fails, rethrows the root cause (the first rank to fail) as a weft::Error whose
// message starts with "rank N: ". Call from any thread; blocks until all return.
void run_thread_ranks(int size, const Options& options,
                      const std::function<void(Communicator&)>& fn);

}  // namespace weft::comm
