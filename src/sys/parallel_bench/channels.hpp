// Two-sided message channels for the ping-pong scenario. Side 0 and side 1 each
// get an Endpoint; a message of n bytes sent by one side is received whole by the
// other, in order. The channel object owns its memory/descriptors and must outlive
// the endpoints; for processes, create it before forking (its memory is shared).
// One thread per side may use an endpoint.
#pragma once

#include <cstddef>
#include <memory>

#include "sys/parallel_bench/sync.hpp"

namespace weft::sys::pbench {

class Endpoint {
 public:
  virtual ~Endpoint() = default;
  // False when the peer did not take/give the message before `deadline`.
  virtual bool send(const void* data, std::size_t bytes, Deadline deadline) = 0;
  virtual bool recv(void* data, std::size_t bytes, Deadline deadline) = 0;
};

class Channel {
 public:
  virtual ~Channel() = default;
  // The endpoint of `side` (0 or 1); call once per side, in the worker that uses it.
  virtual std::unique_ptr<Endpoint> endpoint(int side) = 0;
};

// Shared-memory slots with a sequence word per direction; the receiver spins
// (WaitPolicy::kSpin) or sleeps on a futex (kSleep). Works between threads and
// between forked processes. Messages up to `max_bytes`.
std::unique_ptr<Channel> make_shm_channel(std::size_t max_bytes, WaitPolicy policy);
// Two pipes, one per direction (processes or threads).
std::unique_ptr<Channel> make_pipe_channel(std::size_t max_bytes);
// Mutex + condition variable per direction: threads of one process only.
std::unique_ptr<Channel> make_condvar_channel(std::size_t max_bytes);

}  // namespace weft::sys::pbench
