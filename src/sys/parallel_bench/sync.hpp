// Cross-process synchronisation for the threads-vs-processes benchmark: futex
// waits on 32-bit atomics that may live in memory shared between processes, a
// barrier built on them, and deadlines so a lost peer gives an error, not a hang.
// Objects here are placed in a SharedRegion (or plain memory for threads); they own
// nothing. Any thread or process that maps the memory may call them.
#pragma once

#include <atomic>
#include <cstdint>

namespace weft::sys::pbench {

static_assert(std::atomic<uint32_t>::is_always_lock_free, "futex words must be lock-free");
static_assert(std::atomic<uint64_t>::is_always_lock_free, "shared counters must be lock-free");

// Absolute time limit on the monotonic clock (same clock in every process).
struct Deadline {
  double at_s;
  static Deadline in(double seconds);
  bool passed() const;
};

// How a waiter passes the time: spinning (with a yield now and then so a busy
// machine still makes progress) or sleeping in the kernel (futex).
enum class WaitPolicy { kSpin, kSleep };

// Returns once `word` != `old`, or false when `deadline` passed first.
bool wait_while_equal(const std::atomic<uint32_t>& word, uint32_t old, WaitPolicy policy,
                      Deadline deadline);
// Returns once `word` >= `target`, or false when `deadline` passed first.
bool wait_until_at_least(const std::atomic<uint32_t>& word, uint32_t target, WaitPolicy policy,
                         Deadline deadline);
// Wakes every process/thread sleeping on `word`.
void wake_all(std::atomic<uint32_t>& word);
// Sleeps in the kernel while `word` == `old`, for at most ~50 ms (spurious returns allowed).
void futex_sleep(const std::atomic<uint32_t>& word, uint32_t old);
// One pause instruction: what a spinning waiter does between polls.
void cpu_relax();

// A reusable barrier for `parties` workers, placed in shared memory (plain data,
// initialise with init() before the workers start).
struct SharedBarrier {
  std::atomic<uint32_t> arrived;
  std::atomic<uint32_t> generation;
  uint32_t parties;

  void init(uint32_t n);
  // False when `deadline` passed before every party arrived.
  bool arrive_and_wait(Deadline deadline);
};

// Monotonic clock in seconds, comparable between processes of one machine.
double now_s();

}  // namespace weft::sys::pbench
