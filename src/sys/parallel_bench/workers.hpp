// Runs a function on n workers, either as threads of this process or as forked
// child processes, and reports how each one ended (exit code or signal). Also the
// shared mapping through which forked workers hand results back.
// Call from one thread at a time; fork() happens from the calling thread, so call
// it before this process starts threads of its own (children use _exit()).
#pragma once

#include <cstddef>
#include <functional>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "core/error.hpp"

namespace weft::sys::pbench {

enum class WorkerKind { kThread, kProcess };
const char* worker_kind_name(WorkerKind kind);  // "threads" / "processes"

// How one worker ended. Threads always "exit" with their function's return value
// (an exception counts as kWorkerException); processes may also die by a signal.
struct WorkerOutcome {
  bool signaled = false;
  int exit_code = 0;  // valid when !signaled
  int signal = 0;     // valid when signaled
  bool ok() const { return !signaled && exit_code == 0; }
  std::string describe() const;  // "exit 0" / "killed by signal 11 (SIGSEGV)"
};

// Exit codes a worker function may return besides 0.
inline constexpr int kWorkerCheckFailed = 2;  // its result did not verify
inline constexpr int kWorkerTimeout = 3;      // a peer did not answer in time
inline constexpr int kWorkerException = 70;   // it threw

// Runs fn(i) for i in [0, n) on n workers of `kind` and waits for all of them.
// For processes, fn runs in a forked child that _exit()s with fn's return value;
// anything it must hand back has to be written into a SharedRegion mapped before.
std::vector<WorkerOutcome> run_workers(WorkerKind kind, int n, const std::function<int(int)>& fn);

// Throws weft::Error naming `what` and the first worker that did not end with 0.
void require_all_ok(const std::vector<WorkerOutcome>& outcomes, const std::string& what);

// Waits for child `pid` up to `timeout_s`; kills it (SIGKILL) when it overruns.
// Returns its outcome; `timed_out` tells whether it had to be killed.
WorkerOutcome wait_child(int pid, double timeout_s, bool* timed_out);

// An anonymous MAP_SHARED mapping: memory that forked children share with this
// process (writes are visible both ways). Zero-filled. Move-only; unmapped on destruction.
class SharedRegion {
 public:
  SharedRegion() = default;
  explicit SharedRegion(std::size_t bytes);
  ~SharedRegion();
  SharedRegion(SharedRegion&& other) noexcept;
  SharedRegion& operator=(SharedRegion&& other) noexcept;
  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  template <typename T>
  T* as() const { return static_cast<T*>(data_); }
  // Starts the lifetime of a value-initialised T at the start of the region (T must
  // fit and be trivially destructible: the region is simply unmapped).
  template <typename T>
  T* construct() {
    static_assert(std::is_trivially_destructible_v<T>);
    WEFT_CHECK(sizeof(T) <= bytes_);
    return new (data_) T{};
  }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

// Name of a signal ("SIGSEGV"), or "signal N".
std::string signal_name(int sig);

}  // namespace weft::sys::pbench
