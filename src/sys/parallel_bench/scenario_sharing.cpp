// Scenario 4, the cost of sharing data: one worker hands a buffer (64 MiB by
// default) to another, which ends up with its own verified copy. Threads: the
// consumer copies straight out of the producer's memory. Processes: through a pipe,
// or through a shm_open+mmap region copied in and out chunk by chunk (pipelined).
// Every repeat uses a fresh pattern and the consumer checks every byte (untimed).
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>

#include "core/aligned_buffer.hpp"
#include "core/error.hpp"
#include "sys/parallel_bench/fd_io.hpp"
#include "sys/parallel_bench/kernels.hpp"
#include "sys/parallel_bench/scenarios.hpp"
#include "sys/parallel_bench/stats.hpp"
#include "sys/parallel_bench/sync.hpp"
#include "sys/parallel_bench/workers.hpp"

namespace weft::sys::pbench {
namespace {

constexpr int kMaxRepeats = 64;
constexpr std::size_t kChunk = 1u << 20;  // shm pipelining granularity

enum class Transport { kThreadMemcpy, kProcessPipe, kProcessShm };

struct Control {  // in shared memory; worker 0 produces, worker 1 consumes
  SharedBarrier barrier;
  std::atomic<uint32_t> ready;  // threads: repeats published; shm: chunks published (cumulative)
  const void* source;           // threads only: the producer's buffer
  double t0[kMaxRepeats];       // producer starts sending
  double t1[kMaxRepeats];       // consumer holds every byte
  char error[160];              // why a worker gave up, for the parent's message
};

void set_error(Control* control, const char* what) {
  std::strncpy(control->error, what, sizeof(control->error) - 1);
}

// Maps (creating when `create`) the named shm object of `bytes`; nullptr on failure.
void* map_shm(const std::string& name, std::size_t bytes, bool create) {
  const int fd = create ? shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600)
                        : shm_open(name.c_str(), O_RDWR, 0600);
  if (fd < 0) return nullptr;
  if (create && ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    ::close(fd);
    return nullptr;
  }
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);  // the mapping keeps the object alive
  return p == MAP_FAILED ? nullptr : p;
}

struct Run {
  Transport transport;
  std::size_t bytes;
  int repeats;
  double timeout;
  Control* control;
  Pipe* pipe;            // kProcessPipe
  std::string shm_name;  // kProcessShm
  bool corrupt;          // tests: prove the consumer's check catches a wrong byte
};

int producer(const Run& run) {
  Control* control = run.control;
  AlignedBuffer<uint64_t> src(run.bytes / 8);  // (bytes/8,) the data to hand over
  char* region = nullptr;
  const std::size_t chunks = (run.bytes + kChunk - 1) / kChunk;
  if (run.transport == Transport::kProcessShm) {
    region = static_cast<char*>(map_shm(run.shm_name, run.bytes, /*create=*/true));
    if (region == nullptr) set_error(control, std::strerror(errno));
  }
  // Two set-up barriers: the object exists; then the consumer has mapped it (or failed).
  if (!control->barrier.arrive_and_wait(Deadline::in(run.timeout))) return kWorkerTimeout;
  if (!control->barrier.arrive_and_wait(Deadline::in(run.timeout))) return kWorkerTimeout;
  if (region != nullptr) shm_unlink(run.shm_name.c_str());  // both mapped: the name can go
  if (control->error[0] != 0) return kWorkerCheckFailed;
  int code = 0;
  for (int r = 0; r < run.repeats && code == 0; ++r) {
    pattern_fill(src.data(), run.bytes, static_cast<uint64_t>(r) + 1);
    if (run.corrupt) reinterpret_cast<unsigned char*>(src.data())[run.bytes / 2] ^= 0x10;
    if (!control->barrier.arrive_and_wait(Deadline::in(run.timeout))) return kWorkerTimeout;
    control->t0[r] = now_s();
    if (run.transport == Transport::kThreadMemcpy) {
      control->source = src.data();
      control->ready.store(static_cast<uint32_t>(r) + 1, std::memory_order_release);
      wake_all(control->ready);
    } else if (run.transport == Transport::kProcessPipe) {
      if (!write_full(run.pipe->write_end(), src.data(), run.bytes, Deadline::in(run.timeout)))
        code = kWorkerTimeout;
    } else {
      const auto* from = reinterpret_cast<const char*>(src.data());
      for (std::size_t c = 0; c < chunks; ++c) {
        const std::size_t off = c * kChunk, len = std::min(kChunk, run.bytes - off);
        std::memcpy(region + off, from + off, len);
        control->ready.store(static_cast<uint32_t>(r * chunks + c + 1), std::memory_order_release);
        wake_all(control->ready);
      }
    }
    // The consumer is done with src (threads read it in place) before it changes.
    if (!control->barrier.arrive_and_wait(Deadline::in(run.timeout))) return kWorkerTimeout;
  }
  if (region != nullptr) munmap(region, run.bytes);
  return code;
}

int consumer(const Run& run) {
  Control* control = run.control;
  AlignedBuffer<uint64_t> dst(run.bytes / 8);  // (bytes/8,) the consumer's own copy
  char* region = nullptr;
  const std::size_t chunks = (run.bytes + kChunk - 1) / kChunk;
  if (!control->barrier.arrive_and_wait(Deadline::in(run.timeout))) return kWorkerTimeout;
  if (run.transport == Transport::kProcessShm && control->error[0] == 0) {
    region = static_cast<char*>(map_shm(run.shm_name, run.bytes, /*create=*/false));
    if (region == nullptr) set_error(control, std::strerror(errno));
  }
  if (!control->barrier.arrive_and_wait(Deadline::in(run.timeout))) return kWorkerTimeout;
  if (control->error[0] != 0) return kWorkerCheckFailed;
  int code = 0;
  for (int r = 0; r < run.repeats && code == 0; ++r) {
    if (!control->barrier.arrive_and_wait(Deadline::in(run.timeout))) return kWorkerTimeout;
    const Deadline deadline = Deadline::in(run.timeout);
    auto* to = reinterpret_cast<char*>(dst.data());
    if (run.transport == Transport::kThreadMemcpy) {
      if (!wait_until_at_least(control->ready, static_cast<uint32_t>(r) + 1, WaitPolicy::kSleep,
                               deadline))
        return kWorkerTimeout;
      std::memcpy(to, control->source, run.bytes);
    } else if (run.transport == Transport::kProcessPipe) {
      if (!read_full(run.pipe->read_end(), to, run.bytes, deadline)) return kWorkerTimeout;
    } else {
      for (std::size_t c = 0; c < chunks; ++c) {
        if (!wait_until_at_least(control->ready, static_cast<uint32_t>(r * chunks + c + 1),
                                 WaitPolicy::kSleep, deadline))
          return kWorkerTimeout;
        const std::size_t off = c * kChunk, len = std::min(kChunk, run.bytes - off);
        std::memcpy(to + off, region + off, len);
      }
    }
    control->t1[r] = now_s();
    if (!pattern_check(dst.data(), run.bytes, static_cast<uint64_t>(r) + 1)) {
      set_error(control, "received bytes differ from the source");
      code = kWorkerCheckFailed;
    }
    std::memset(to, 0, run.bytes);  // the next repeat must deliver everything again
    if (!control->barrier.arrive_and_wait(Deadline::in(run.timeout))) return kWorkerTimeout;
  }
  if (region != nullptr) munmap(region, run.bytes);
  return code;
}

TransferRow measure(Transport transport, const Options& options, std::size_t bytes, int repeats) {
  TransferRow row;
  row.transport = transport == Transport::kThreadMemcpy  ? "thread_memcpy"
                  : transport == Transport::kProcessPipe ? "process_pipe"
                                                         : "process_shm";
  const WorkerKind kind =
      transport == Transport::kThreadMemcpy ? WorkerKind::kThread : WorkerKind::kProcess;
  row.between = worker_kind_name(kind);

  SharedRegion control_region(sizeof(Control));
  Run run{transport, bytes, repeats, options.peer_timeout_s, control_region.construct<Control>(), nullptr, {},
          options.test_corrupt_sharing};
  run.control->barrier.init(2);
  std::unique_ptr<Pipe> pipe;
  if (transport == Transport::kProcessPipe) {
    pipe = std::make_unique<Pipe>(1u << 20);
    run.pipe = pipe.get();
    row.note = str("pipe buffer ", pipe->capacity() / 1024, " KiB");
  }
  if (transport == Transport::kProcessShm) {
    static std::atomic<int> counter{0};
    run.shm_name = str("/weft-pbench-", getpid(), "-", counter.fetch_add(1));
    row.note = "1 MiB chunks, pipelined";
  }
  const auto outcomes = run_workers(kind, 2, [&run](int w) { return w == 0 ? producer(run) : consumer(run); });
  if (!run.shm_name.empty()) shm_unlink(run.shm_name.c_str());  // in case a worker died early
  if (transport == Transport::kProcessShm && run.control->error[0] != 0 &&
      std::strstr(run.control->error, "differ") == nullptr) {
    row.available = false;  // shm_open refused (no /dev/shm?): report, do not fail the run
    row.note = str("shm_open failed: ", run.control->error);
    return row;
  }
  require_all_ok(outcomes, str("sharing scenario (", row.transport, ")"));
  std::vector<double> ms;
  for (int r = 0; r < repeats; ++r) ms.push_back((run.control->t1[r] - run.control->t0[r]) * 1e3);
  row.ms = median(ms);
  row.gbps = static_cast<double>(bytes) / (row.ms * 1e-3) / 1e9;
  row.verified = true;  // require_all_ok: every repeat passed the consumer's check
  return row;
}

}  // namespace

TransferRow run_sharing_transport(const std::string& transport, const Options& options) {
  const Transport t = transport == "thread_memcpy"  ? Transport::kThreadMemcpy
                      : transport == "process_pipe" ? Transport::kProcessPipe
                      : transport == "process_shm"  ? Transport::kProcessShm
                                                    : throw input_error(str("unknown transport '", transport, "'"));
  return measure(t, options, options.share_bytes / 8 * 8, std::clamp(options.share_repeats, 1, kMaxRepeats));
}

SharingResult run_sharing(const Options& options) {
  SharingResult result;
  result.bytes = options.share_bytes / 8 * 8;
  result.repeats = std::clamp(options.share_repeats, 1, kMaxRepeats);
  for (const char* t : {"thread_memcpy", "process_pipe", "process_shm"})
    result.rows.push_back(run_sharing_transport(t, options));
  return result;
}

}  // namespace weft::sys::pbench
