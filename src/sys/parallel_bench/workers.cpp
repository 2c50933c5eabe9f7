// Thread and fork()-based worker pools, see workers.hpp.
#include "sys/parallel_bench/workers.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <thread>
#include <utility>

#include "core/error.hpp"
#include "sys/parallel_bench/sync.hpp"

namespace weft::sys::pbench {
namespace {

// Runs fn in a child and never returns: _exit so the parent's atexit handlers,
// static destructors and stdio buffers are not run twice.
[[noreturn]] void child_main(const std::function<int(int)>& fn, int index) {
  int code = kWorkerException;
  try {
    code = fn(index);
  } catch (const std::exception& e) {
    const std::string line = str("weft: worker process ", index, ": ", e.what(), "\n");
    [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
  } catch (...) {
  }
  _exit(code);
}

WorkerOutcome outcome_from_status(int status) {
  WorkerOutcome out;
  if (WIFSIGNALED(status)) {
    out.signaled = true;
    out.signal = WTERMSIG(status);
  } else {
    out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : kWorkerException;
  }
  return out;
}

}  // namespace

const char* worker_kind_name(WorkerKind kind) {
  return kind == WorkerKind::kThread ? "threads" : "processes";
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev != nullptr ? str("SIG", abbrev) : str("signal ", sig);
}

std::string WorkerOutcome::describe() const {
  if (signaled) return str("killed by signal ", signal, " (", signal_name(signal), ")");
  return str("exit ", exit_code);
}

std::vector<WorkerOutcome> run_workers(WorkerKind kind, int n, const std::function<int(int)>& fn) {
  WEFT_CHECK(n >= 1, "need at least one worker, got ", n);
  std::vector<WorkerOutcome> outcomes(static_cast<std::size_t>(n));
  if (kind == WorkerKind::kThread) {
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&fn, &outcomes, i] {
        try {
          outcomes[static_cast<std::size_t>(i)].exit_code = fn(i);
        } catch (...) {
          outcomes[static_cast<std::size_t>(i)].exit_code = kWorkerException;
        }
      });
    }
    for (auto& t : threads) t.join();
    return outcomes;
  }

  std::vector<pid_t> pids;
  pids.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const pid_t pid = fork();
    if (pid == 0) child_main(fn, i);
    if (pid < 0) {
      const int err = errno;
      for (pid_t p : pids) kill(p, SIGKILL);
      for (pid_t p : pids) waitpid(p, nullptr, 0);
      throw Error(ErrorKind::kRuntime, str("fork() failed for worker ", i, ": ", std::strerror(err)),
                  "the process limit (ulimit -u) or memory may be exhausted");
    }
    pids.push_back(pid);
  }
  for (int i = 0; i < n; ++i) {
    int status = 0;
    while (waitpid(pids[static_cast<std::size_t>(i)], &status, 0) < 0 && errno == EINTR) {
    }
    outcomes[static_cast<std::size_t>(i)] = outcome_from_status(status);
  }
  return outcomes;
}

void require_all_ok(const std::vector<WorkerOutcome>& outcomes, const std::string& what) {
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const WorkerOutcome& o = outcomes[i];
    if (o.ok()) continue;
    if (!o.signaled && o.exit_code == kWorkerTimeout)
      throw timeout_error(str(what, ": worker ", i, " timed out waiting for its peer"),
                          "the machine may be overloaded; try again or use --quick");
    if (!o.signaled && o.exit_code == kWorkerCheckFailed)
      throw Error(ErrorKind::kRuntime,
                  str(what, ": worker ", i, " found wrong data (result check failed)"));
    throw Error(ErrorKind::kRuntime, str(what, ": worker ", i, " failed: ", o.describe()));
  }
}

WorkerOutcome wait_child(int pid, double timeout_s, bool* timed_out) {
  *timed_out = false;
  const Deadline deadline = Deadline::in(timeout_s);
  int status = 0;
  for (;;) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return outcome_from_status(status);
    if (r < 0 && errno != EINTR) {
      WorkerOutcome lost;
      lost.exit_code = kWorkerException;
      return lost;
    }
    if (deadline.passed()) {
      *timed_out = true;
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return outcome_from_status(status);
    }
    usleep(1000);
  }
}

SharedRegion::SharedRegion(std::size_t bytes) : bytes_(bytes) {
  WEFT_CHECK(bytes > 0);
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    throw Error(ErrorKind::kRuntime,
                str("mmap of ", bytes, " shared bytes failed: ", std::strerror(errno)),
                "not enough memory; try --quick");
  data_ = p;
}

SharedRegion::~SharedRegion() {
  if (data_ != nullptr) munmap(data_, bytes_);
}

SharedRegion::SharedRegion(SharedRegion&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

SharedRegion& SharedRegion::operator=(SharedRegion&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) munmap(data_, bytes_);
    data_ = std::exchange(other.data_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

}  // namespace weft::sys::pbench
