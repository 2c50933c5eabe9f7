// Message channels over shared memory, pipes and condition variables, see channels.hpp.
#include "sys/parallel_bench/channels.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <vector>

#include "sys/parallel_bench/fd_io.hpp"
#include "sys/parallel_bench/workers.hpp"

namespace weft::sys::pbench {
namespace {

// ---- shared memory -------------------------------------------------------------
struct alignas(64) Flag {              // one cache line per direction
  std::atomic<uint32_t> seq;           // messages published in this direction
  std::atomic<uint32_t> sleepers;      // receivers inside futex_sleep (sender wakes only then)
};
struct ShmHeader {
  Flag flag[2];  // flag[s]: messages sent by side s
};

class ShmChannel final : public Channel {
 public:
  ShmChannel(std::size_t max_bytes, WaitPolicy policy)
      : max_bytes_((max_bytes + 63) / 64 * 64),
        policy_(policy),
        region_(sizeof(ShmHeader) + 2 * max_bytes_) {
    region_.construct<ShmHeader>();
  }
  std::unique_ptr<Endpoint> endpoint(int side) override;

  ShmHeader* header() const { return region_.as<ShmHeader>(); }
  char* data(int side) const {  // (max_bytes,) the slot that side `side` writes
    return region_.as<char>() + sizeof(ShmHeader) + static_cast<std::size_t>(side) * max_bytes_;
  }
  WaitPolicy policy() const { return policy_; }

 private:
  std::size_t max_bytes_;
  WaitPolicy policy_;
  SharedRegion region_;
};

class ShmEndpoint final : public Endpoint {
 public:
  ShmEndpoint(const ShmChannel& channel, int side) : channel_(channel), side_(side) {}

  bool send(const void* data, std::size_t bytes, Deadline) override {
    // Strict ping-pong: the peer copied our previous message out before it replied.
    std::memcpy(channel_.data(side_), data, bytes);
    Flag& flag = channel_.header()->flag[side_];
    flag.seq.store(++sent_, std::memory_order_seq_cst);
    if (channel_.policy() == WaitPolicy::kSleep && flag.sleepers.load(std::memory_order_seq_cst) > 0)
      wake_all(flag.seq);
    return true;
  }

  bool recv(void* data, std::size_t bytes, Deadline deadline) override {
    Flag& flag = channel_.header()->flag[1 - side_];
    const uint32_t want = received_ + 1;
    if (!wait(flag, want, deadline)) return false;
    received_ = want;
    std::memcpy(data, channel_.data(1 - side_), bytes);
    return true;
  }

 private:
  bool wait(Flag& flag, uint32_t want, Deadline deadline) {
    if (channel_.policy() == WaitPolicy::kSpin)
      return wait_until_at_least(flag.seq, want, WaitPolicy::kSpin, deadline);
    for (int spin = 0; spin < 200; ++spin) {  // a short spin catches a fast reply
      if (flag.seq.load(std::memory_order_acquire) >= want) return true;
      cpu_relax();
    }
    for (;;) {
      // Dekker-style with the sender: announce ourselves, then re-check before sleeping.
      flag.sleepers.fetch_add(1, std::memory_order_seq_cst);
      const uint32_t seen = flag.seq.load(std::memory_order_seq_cst);
      if (seen < want) futex_sleep(flag.seq, seen);
      flag.sleepers.fetch_sub(1, std::memory_order_seq_cst);
      if (flag.seq.load(std::memory_order_acquire) >= want) return true;
      if (deadline.passed()) return false;
    }
  }

  const ShmChannel& channel_;
  int side_;
  uint32_t sent_ = 0;
  uint32_t received_ = 0;
};

std::unique_ptr<Endpoint> ShmChannel::endpoint(int side) {
  return std::make_unique<ShmEndpoint>(*this, side);
}

// ---- pipes ---------------------------------------------------------------------
class PipeChannel final : public Channel {
 public:
  explicit PipeChannel(std::size_t max_bytes) : to_{Pipe(max_bytes), Pipe(max_bytes)} {}
  std::unique_ptr<Endpoint> endpoint(int side) override;
  Pipe to_[2];  // to_[s]: messages towards side s
};

class PipeEndpoint final : public Endpoint {
 public:
  PipeEndpoint(const PipeChannel& channel, int side) : channel_(channel), side_(side) {}
  bool send(const void* data, std::size_t bytes, Deadline deadline) override {
    return write_full(channel_.to_[1 - side_].write_end(), data, bytes, deadline);
  }
  bool recv(void* data, std::size_t bytes, Deadline deadline) override {
    return read_full(channel_.to_[side_].read_end(), data, bytes, deadline);
  }

 private:
  const PipeChannel& channel_;
  int side_;
};

std::unique_ptr<Endpoint> PipeChannel::endpoint(int side) {
  return std::make_unique<PipeEndpoint>(*this, side);
}

// ---- condition variables -------------------------------------------------------
class CondvarChannel final : public Channel {
 public:
  explicit CondvarChannel(std::size_t max_bytes) {
    for (auto& d : data_) d.resize(max_bytes);
  }
  std::unique_ptr<Endpoint> endpoint(int side) override;

  std::mutex mutex_;
  std::condition_variable ready_[2];  // ready_[s]: side s sent a message
  uint32_t seq_[2] = {0, 0};
  std::vector<char> data_[2];         // (max_bytes,) written by side s
};

class CondvarEndpoint final : public Endpoint {
 public:
  CondvarEndpoint(CondvarChannel& channel, int side) : channel_(channel), side_(side) {}
  bool send(const void* data, std::size_t bytes, Deadline) override {
    {
      std::lock_guard<std::mutex> lock(channel_.mutex_);
      std::memcpy(channel_.data_[side_].data(), data, bytes);
      ++channel_.seq_[side_];
    }
    channel_.ready_[side_].notify_one();
    return true;
  }
  bool recv(void* data, std::size_t bytes, Deadline deadline) override {
    const int peer = 1 - side_;
    std::unique_lock<std::mutex> lock(channel_.mutex_);
    const uint32_t want = received_ + 1;
    while (channel_.seq_[peer] < want) {
      if (deadline.passed()) return false;
      channel_.ready_[peer].wait_for(lock, std::chrono::milliseconds(50));
    }
    received_ = want;
    std::memcpy(data, channel_.data_[peer].data(), bytes);
    return true;
  }

 private:
  CondvarChannel& channel_;
  int side_;
  uint32_t received_ = 0;
};

std::unique_ptr<Endpoint> CondvarChannel::endpoint(int side) {
  return std::make_unique<CondvarEndpoint>(*this, side);
}

}  // namespace

std::unique_ptr<Channel> make_shm_channel(std::size_t max_bytes, WaitPolicy policy) {
  return std::make_unique<ShmChannel>(max_bytes, policy);
}
std::unique_ptr<Channel> make_pipe_channel(std::size_t max_bytes) {
  return std::make_unique<PipeChannel>(max_bytes);
}
std::unique_ptr<Channel> make_condvar_channel(std::size_t max_bytes) {
  return std::make_unique<CondvarChannel>(max_bytes);
}

}  // namespace weft::sys::pbench
