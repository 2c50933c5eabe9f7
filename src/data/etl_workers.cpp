// fork()ed worker processes with pipes. See etl_workers.hpp.
#include "data/etl_workers.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <exception>

#include "core/error.hpp"

namespace weft::data {
namespace {

struct ResultMsg {
  std::int32_t worker;
  std::uint32_t unit;
  std::uint64_t tokens;
  std::int32_t ok;
  std::int32_t kind;  // ErrorKind when !ok
  char message[448];
  char hint[256];
};
static_assert(sizeof(ResultMsg) < PIPE_BUF, "result messages must be written atomically");

bool read_full(int fd, void* buf, std::size_t size) {
  char* p = static_cast<char*>(buf);
  while (size > 0) {
    const ssize_t n = ::read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

void write_full(int fd, const void* buf, std::size_t size) {
  const char* p = static_cast<const char*>(buf);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw io_error_errno("cannot write to worker pipe", "pipe");
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

[[noreturn]] void worker_main(int id, int cmd_fd, int result_fd, const EtlWorkerPool::Job& job) {
  // Die with the parent (a killed `weft data prepare` must not leave workers behind).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() == 1) ::_exit(1);
  std::uint32_t unit;
  while (read_full(cmd_fd, &unit, sizeof unit)) {
    ResultMsg msg{};
    msg.worker = id;
    msg.unit = unit;
    try {
      msg.tokens = job(unit);
      msg.ok = 1;
    } catch (const Error& e) {
      msg.kind = static_cast<std::int32_t>(e.kind());
      std::snprintf(msg.message, sizeof msg.message, "%s", e.what());
      std::snprintf(msg.hint, sizeof msg.hint, "%s", e.hint().c_str());
    } catch (const std::exception& e) {
      msg.kind = static_cast<std::int32_t>(ErrorKind::kRuntime);
      std::snprintf(msg.message, sizeof msg.message, "%s", e.what());
    }
    if (::write(result_fd, &msg, sizeof msg) != static_cast<ssize_t>(sizeof msg)) ::_exit(2);
  }
  ::_exit(0);  // skip static destructors and atexit handlers that belong to the parent
}

}  // namespace

EtlWorkerPool::EtlWorkerPool(int workers, Job job) {
  WEFT_CHECK(workers >= 1);
  // A dead worker must give EPIPE on submit, not kill the parent with SIGPIPE.
  old_sigpipe_ = ::signal(SIGPIPE, SIG_IGN);
  int rp[2];
  if (::pipe2(rp, O_CLOEXEC) != 0) throw io_error_errno("cannot create", "result pipe");
  result_fd_ = rp[0];
  std::fflush(nullptr);  // no buffered output gets written twice by the children
  for (int w = 0; w < workers; ++w) {
    int cp[2];
    if (::pipe2(cp, O_CLOEXEC) != 0) {
      ::close(rp[1]);
      kill_all();
      throw io_error_errno("cannot create", "worker pipe");
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(cp[0]);
      ::close(cp[1]);
      ::close(rp[1]);
      kill_all();
      throw io_error_errno("cannot fork", "worker process");
    }
    if (pid == 0) {
      ::close(cp[1]);
      ::close(rp[0]);
      for (int fd : cmd_fds_) ::close(fd);  // siblings' command pipes
      worker_main(w, cp[0], rp[1], job);
    }
    ::close(cp[0]);
    pids_.push_back(pid);
    cmd_fds_.push_back(cp[1]);
  }
  ::close(rp[1]);
}

EtlWorkerPool::~EtlWorkerPool() {
  kill_all();
  ::signal(SIGPIPE, old_sigpipe_);
}

void EtlWorkerPool::submit(int worker, std::uint32_t unit) {
  write_full(cmd_fds_.at(static_cast<std::size_t>(worker)), &unit, sizeof unit);
}

EtlWorkerPool::Result EtlWorkerPool::wait() {
  for (;;) {
    pollfd p{result_fd_, POLLIN, 0};
    const int rc = ::poll(&p, 1, 500);
    if (rc < 0 && errno != EINTR) throw io_error_errno("cannot poll", "worker result pipe");
    if (rc > 0) {
      ResultMsg msg{};
      if (!read_full(result_fd_, &msg, sizeof msg)) {
        throw Error(ErrorKind::kRuntime, "all data prepare workers exited unexpectedly");
      }
      if (!msg.ok) {
        msg.message[sizeof msg.message - 1] = '\0';
        msg.hint[sizeof msg.hint - 1] = '\0';
        throw Error(static_cast<ErrorKind>(msg.kind), msg.message, msg.hint);
      }
      return {msg.worker, msg.unit, msg.tokens};
    }
    // No message yet: make sure no worker died (it would never answer).
    for (std::size_t w = 0; w < pids_.size(); ++w) {
      int status = 0;
      if (pids_[w] > 0 && ::waitpid(pids_[w], &status, WNOHANG) == pids_[w]) {
        pids_[w] = -1;
        throw Error(ErrorKind::kRuntime,
                    str("data prepare worker ", w, " died (",
                        WIFSIGNALED(status) ? str("signal ", WTERMSIG(status))
                                            : str("exit ", WEXITSTATUS(status)),
                        ")"),
                    "out of memory? try fewer --workers");
      }
    }
  }
}

void EtlWorkerPool::close() {
  for (int& fd : cmd_fds_) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  for (pid_t& pid : pids_) {
    if (pid > 0) {
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    pid = -1;
  }
  if (result_fd_ >= 0) ::close(result_fd_);
  result_fd_ = -1;
}

void EtlWorkerPool::kill_all() {
  for (pid_t pid : pids_) {
    if (pid > 0) ::kill(pid, SIGKILL);
  }
  close();
}

}  // namespace weft::data
