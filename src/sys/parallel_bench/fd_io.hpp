// Blocking reads and writes of whole buffers on pipes, with a deadline so a dead
// peer gives an error rather than a hang. Owns nothing; any thread or process.
#pragma once

#include <cstddef>

#include "sys/parallel_bench/sync.hpp"

namespace weft::sys::pbench {

// False on error, end of file or when the deadline passed before all bytes moved.
bool write_full(int fd, const void* data, std::size_t bytes, Deadline deadline);
bool read_full(int fd, void* data, std::size_t bytes, Deadline deadline);

// A pipe whose two ends close with the object. Tries to grow its buffer to
// `want_bytes` (F_SETPIPE_SZ); capacity() says what the kernel granted.
class Pipe {
 public:
  explicit Pipe(std::size_t want_bytes);
  ~Pipe();
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }
  std::size_t capacity() const { return capacity_; }

 private:
  int fds_[2] = {-1, -1};
  std::size_t capacity_ = 0;
};

}  // namespace weft::sys::pbench
