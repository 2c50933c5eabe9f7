// Whole-buffer pipe I/O with deadlines, see fd_io.hpp.
#include "sys/parallel_bench/fd_io.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.hpp"

namespace weft::sys::pbench {
namespace {

// Waits until fd is ready for `events`; false on deadline or error.
bool wait_ready(int fd, short events, Deadline deadline) {
  for (;;) {
    const double left = deadline.at_s - now_s();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int r = poll(&p, 1, static_cast<int>(std::min(left * 1000.0, 1000.0)) + 1);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

}  // namespace

bool write_full(int fd, const void* data, std::size_t bytes, Deadline deadline) {
  const auto* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::write(fd, p, bytes);
    if (n > 0) {
      p += n;
      bytes -= static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      if (!wait_ready(fd, POLLOUT, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

bool read_full(int fd, void* data, std::size_t bytes, Deadline deadline) {
  auto* p = static_cast<char*>(data);
  while (bytes > 0) {
    // Poll first so a peer that died (while someone still holds the write end) times out.
    if (!wait_ready(fd, POLLIN, deadline)) return false;
    const ssize_t n = ::read(fd, p, bytes);
    if (n > 0) {
      p += n;
      bytes -= static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      continue;
    } else {
      return false;  // EOF or error
    }
  }
  return true;
}

Pipe::Pipe(std::size_t want_bytes) {
  if (pipe2(fds_, O_CLOEXEC) != 0)
    throw io_error(str("pipe() failed: ", std::strerror(errno)), "too many open files? (ulimit -n)");
  // Non-blocking writes: a writer whose reader died polls into its deadline instead of hanging.
  fcntl(fds_[1], F_SETFL, fcntl(fds_[1], F_GETFL) | O_NONBLOCK);
  const int granted = fcntl(fds_[1], F_SETPIPE_SZ, static_cast<int>(want_bytes));
  // Refused (e.g. above /proc/sys/fs/pipe-max-size): keep the default, ask what it is.
  const int size = granted > 0 ? granted : fcntl(fds_[1], F_GETPIPE_SZ);
  capacity_ = size > 0 ? static_cast<std::size_t>(size) : 0;
}

Pipe::~Pipe() {
  for (int fd : fds_)
    if (fd >= 0) ::close(fd);
}

}  // namespace weft::sys::pbench
