// The worker processes of `weft data prepare`: fork()ed children that each run a
// job function on unit indices sent over a pipe and report (unit, token count) or an
// error back over one shared result pipe (messages < PIPE_BUF, so writes are atomic).
// Processes, not threads: tokenization is CPU-bound and a crash stays in one worker.
// Owned and driven by one thread of the parent; the destructor kills and reaps the
// children it started.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace weft::data {

class EtlWorkerPool {
 public:
  // Runs in the child; returns the token count of the unit or throws weft::Error.
  using Job = std::function<std::uint64_t(std::uint32_t unit)>;

  EtlWorkerPool(int workers, Job job);
  ~EtlWorkerPool();
  EtlWorkerPool(const EtlWorkerPool&) = delete;
  EtlWorkerPool& operator=(const EtlWorkerPool&) = delete;

  int size() const { return static_cast<int>(pids_.size()); }
  void submit(int worker, std::uint32_t unit);

  struct Result {
    int worker;
    std::uint32_t unit;
    std::uint64_t tokens;
  };
  // Blocks until one result arrives. Rethrows a worker's weft::Error with its kind;
  // a worker that died is a kRuntime error naming it.
  Result wait();
  // Tells the workers to exit and reaps them.
  void close();

 private:
  void kill_all();
  std::vector<pid_t> pids_;
  std::vector<int> cmd_fds_;  // parent's write ends, one per worker
  int result_fd_ = -1;        // parent's read end
  void (*old_sigpipe_)(int) = nullptr;
};

}  // namespace weft::data
