// Scenario 6, crash isolation, shown for real: (a) a child process runs a pool of
// threads and one thread writes to a PROT_NONE page -- the kernel kills the whole
// child with SIGSEGV and the pool never returns its results; (b) a pool of forked
// processes where one worker does the same -- the parent sees that worker's signal
// and every other worker's result, each checked against the closed form.
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "sys/parallel_bench/kernels.hpp"
#include "sys/parallel_bench/scenarios.hpp"
#include "sys/parallel_bench/sync.hpp"
#include "sys/parallel_bench/workers.hpp"

namespace weft::sys::pbench {
namespace {

constexpr int kMaxWorkers = 1024;
constexpr uint32_t kSteps = 64;

struct Board {  // in shared memory: what the crashing pool managed to report
  std::atomic<uint32_t> finished[kMaxWorkers];  // worker i's job completed
  uint64_t sums[kMaxWorkers];                   // worker i's checksum
  std::atomic<uint32_t> delivered;              // the thread pool joined and returned
};

// Items one worker computes in about `seconds` (rough; only needs to outlast the crash).
uint64_t items_for(double seconds) {
  const double t0 = now_s();
  volatile uint64_t sink = lcg_kernel(0, 4096, kSteps);
  (void)sink;
  const double per_item = std::max(now_s() - t0, 1e-6) / 4096;
  return std::max<uint64_t>(static_cast<uint64_t>(seconds / per_item), 4096);
}

void no_core_dumps() {
  rlimit none{0, 0};
  setrlimit(RLIMIT_CORE, &none);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);  // also stops piped core handlers (systemd-coredump)
}

}  // namespace

[[noreturn]] void crash_with_sigsegv() {
  no_core_dumps();
  signal(SIGSEGV, SIG_DFL);  // sanitizers install their own handler; we want the kernel's
  void* page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page != MAP_FAILED) *static_cast<volatile int*>(page) = 1;  // faults: SIGSEGV
  raise(SIGSEGV);
  _exit(99);  // unreachable unless SIGSEGV is blocked
}

ThreadPoolCrash run_thread_pool_crash(int workers, const Options& options) {
  WEFT_CHECK(workers >= 2 && workers <= kMaxWorkers);
  ThreadPoolCrash result;
  result.workers = workers;
  result.crashing_worker = workers / 2;
  const uint64_t items = items_for(options.crash_work_s);
  SharedRegion board_region(sizeof(Board));
  auto* board = board_region.construct<Board>();

  // Fork first, start threads only inside the child (fork() in a threaded process
  // copies just the calling thread).
  const pid_t pid = fork();
  if (pid < 0) throw Error(ErrorKind::kRuntime, "crash scenario: fork() failed");
  if (pid == 0) {
    no_core_dumps();
    std::vector<std::thread> pool;
    for (int i = 0; i < workers; ++i) {
      pool.emplace_back([=] {
        if (i == result.crashing_worker) crash_with_sigsegv();
        board->sums[i] = lcg_kernel(0, items, kSteps);
        board->finished[i].store(1);
      });
    }
    for (auto& t : pool) t.join();
    board->delivered.store(1);
    _exit(0);
  }
  bool timed_out = false;
  const WorkerOutcome child = wait_child(pid, options.peer_timeout_s, &timed_out);
  if (timed_out) throw timeout_error("crash scenario: the threaded child did not end in time");
  result.child_signaled = child.signaled;
  result.child_signal = child.signal;
  result.child_exit_code = child.exit_code;
  result.results_delivered = board->delivered.load() != 0;
  for (int i = 0; i < workers; ++i) result.others_finished += static_cast<int>(board->finished[i].load());
  return result;
}

ProcessPoolCrash run_process_pool_crash(int workers, const Options& options) {
  WEFT_CHECK(workers >= 2 && workers <= kMaxWorkers);
  ProcessPoolCrash result;
  result.workers = workers;
  result.crashing_worker = workers / 2;
  const uint64_t items = items_for(options.crash_work_s);
  SharedRegion board_region(sizeof(Board));
  auto* board = board_region.construct<Board>();
  const int victim = result.crashing_worker;
  const auto outcomes = run_workers(WorkerKind::kProcess, workers, [&](int i) {
    if (i == victim) crash_with_sigsegv();
    // Each survivor computes a different slice, so a mixed-up result shows.
    board->sums[i] = lcg_kernel(items * static_cast<uint64_t>(i), items * static_cast<uint64_t>(i + 1), kSteps);
    board->finished[i].store(1);
    return 0;
  });
  for (int i = 0; i < workers; ++i) {
    const WorkerOutcome& o = outcomes[static_cast<std::size_t>(i)];
    ProcessWorkerCrash w;
    w.index = i;
    w.signaled = o.signaled;
    w.signal = o.signal;
    w.exit_code = o.exit_code;
    w.result_ok = o.ok() && board->finished[i].load() != 0 &&
                  board->sums[i] == lcg_kernel_closed_form(items * static_cast<uint64_t>(i),
                                                           items * static_cast<uint64_t>(i + 1), kSteps);
    if (o.signaled && o.signal == SIGSEGV) ++result.killed_by_sigsegv;
    if (w.result_ok) ++result.completed_ok;
    result.outcomes.push_back(w);
  }
  return result;
}

}  // namespace weft::sys::pbench
