// Futex-based waiting and barrier, see sync.hpp. Uses the non-private futex
// operations so that waiters in different processes sharing the page meet.
#include "sys/parallel_bench/sync.hpp"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

namespace weft::sys::pbench {
namespace {

constexpr int kSpinsBeforeSleep = 2000;  // about a microsecond or two of spinning
constexpr int kSpinsBeforeYield = 256;

// The futex syscall wants a plain uint32_t*; std::atomic<uint32_t> has that layout.
uint32_t* futex_word(const std::atomic<uint32_t>& word) {
  return reinterpret_cast<uint32_t*>(const_cast<std::atomic<uint32_t>*>(&word));
}

template <typename Done>
bool wait_for(const std::atomic<uint32_t>& word, Done done, WaitPolicy policy, Deadline deadline) {
  for (int spin = 0;; ++spin) {
    const uint32_t value = word.load(std::memory_order_acquire);
    if (done(value)) return true;
    if ((spin & 4095) == 4095 && deadline.passed()) return false;
    if (policy == WaitPolicy::kSleep && spin >= kSpinsBeforeSleep) {
      futex_sleep(word, value);
      if (deadline.passed() && !done(word.load(std::memory_order_acquire))) return false;
    } else if (policy == WaitPolicy::kSpin && spin % kSpinsBeforeYield == kSpinsBeforeYield - 1) {
      sched_yield();
    } else {
      cpu_relax();
    }
  }
}

}  // namespace

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

void futex_sleep(const std::atomic<uint32_t>& word, uint32_t old) {
  timespec timeout{0, 50 * 1000 * 1000};  // wake now and then to check the deadline
  syscall(SYS_futex, futex_word(word), FUTEX_WAIT, old, &timeout, nullptr, 0);
}

double now_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

Deadline Deadline::in(double seconds) { return Deadline{now_s() + seconds}; }
bool Deadline::passed() const { return now_s() > at_s; }

bool wait_while_equal(const std::atomic<uint32_t>& word, uint32_t old, WaitPolicy policy,
                      Deadline deadline) {
  return wait_for(word, [old](uint32_t v) { return v != old; }, policy, deadline);
}

bool wait_until_at_least(const std::atomic<uint32_t>& word, uint32_t target, WaitPolicy policy,
                         Deadline deadline) {
  // Counters here only grow and never wrap within one benchmark run.
  return wait_for(word, [target](uint32_t v) { return v >= target; }, policy, deadline);
}

void wake_all(std::atomic<uint32_t>& word) {
  syscall(SYS_futex, futex_word(word), FUTEX_WAKE, 0x7fffffff, nullptr, nullptr, 0);
}

void SharedBarrier::init(uint32_t n) {
  arrived.store(0, std::memory_order_relaxed);
  generation.store(0, std::memory_order_relaxed);
  parties = n;
}

bool SharedBarrier::arrive_and_wait(Deadline deadline) {
  const uint32_t gen = generation.load(std::memory_order_acquire);
  if (arrived.fetch_add(1, std::memory_order_acq_rel) + 1 == parties) {
    // Reset before releasing: the next arrival only comes after it sees the new generation.
    arrived.store(0, std::memory_order_relaxed);
    generation.fetch_add(1, std::memory_order_release);
    wake_all(generation);
    return true;
  }
  return wait_while_equal(generation, gen, WaitPolicy::kSleep, deadline);
}

}  // namespace weft::sys::pbench
