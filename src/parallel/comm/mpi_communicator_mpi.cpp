// MPI backend: each operation is MPI's non-blocking call (MPI_Iallreduce,
// MPI_Ireduce_scatter_block, MPI_Iallgather, MPI_Ibcast, MPI_Isend/Irecv,
// MPI_Ibarrier); wait() polls MPI_Test against the deadline, so no call can hang.
// See mpi_detail.hpp. Used by the thread that owns the communicator.
#include <sched.h>

#include <climits>
#include <cstring>
#include <thread>

#include "core/aligned_buffer.hpp"
#include "core/log.hpp"
#include "parallel/comm/mpi_detail.hpp"

namespace weft::comm::detail {
namespace {

using Clock = std::chrono::steady_clock;

const char* kTimeoutHint =
    "a rank is stalled or dead; if it is only slow (e.g. a long first step), raise --comm-timeout";

std::string describe(std::string_view name, std::uint64_t seq, std::string_view context) {
  std::string out = str(name, " #", seq);
  if (!context.empty()) out += str(" (", context, ")");
  return out;
}

std::string seconds_text(std::chrono::milliseconds ms) {
  return str(static_cast<double>(ms.count()) / 1000.0, " s");
}

int mpi_count(std::size_t count, std::string_view what) {
  if (count > static_cast<std::size_t>(INT_MAX))
    throw comm_error(str(what, ": ", count, " elements exceed MPI's int count"),
                     "split the buffer into pieces below 2^31 elements");
  return static_cast<int>(count);
}

class MpiRequest final : public RequestImpl {
 public:
  MpiRequest(MpiCommunicator& comm, MPI_Request req, std::string what, std::int64_t seq, int peer,
             std::function<void()> on_complete)
      : comm_(comm),
        req_(req),
        what_(std::move(what)),
        seq_(seq),
        peer_(peer),
        on_complete_(std::move(on_complete)) {}

  // A phased operation (rank-ordered reductions): its first phase is already posted.
  MpiRequest(MpiCommunicator& comm, std::unique_ptr<MpiPhases> phases,
             std::vector<MPI_Request> reqs, std::string what, std::int64_t seq)
      : comm_(comm),
        req_(MPI_REQUEST_NULL),
        what_(std::move(what)),
        seq_(seq),
        peer_(-1),
        phases_(std::move(phases)),
        reqs_(std::move(reqs)) {}

  ~MpiRequest() override {
    if (phases_ && !reqs_.empty()) phases_->leak_buffers();  // abandoned mid-flight
  }

  bool test() override {
    if (comm_.shared().failed.load()) throw already_failed();
    if (phases_) return test_phases();
    int done = 0;
    MPI_Status status;
    mpi_check(MPI_Test(&req_, &done, &status), "MPI_Test", what_);
    if (!done) return false;
    if (on_complete_) on_complete_();
    if (peer_ >= 0 && seq_ < 0) check_recv_count(status);
    return true;
  }

  void wait() override {
    const auto timeout = comm_.options().timeout;
    const auto deadline = Clock::now() + timeout;
    if (comm_.poll_until([this] { return test(); }, deadline)) return;
    std::string msg = str(what_, " timed out after ", seconds_text(timeout), ": ");
    if (seq_ >= 0) {
      msg += comm_.diagnose_collective(static_cast<std::uint64_t>(seq_));
    } else {
      msg += str(format_ranks(comm_, std::vector<int>{peer_}), " posted no matching ",
                 is_recv_ ? "send" : "receive",
                 comm_.shared().hosts_of(comm_, std::vector<int>{peer_}));
    }
    comm_.shared().fail(msg);
    throw timeout_error(msg, kTimeoutHint);
  }

  void abandon() override {
    // MPI cannot cancel a collective: mark the process failed so no later call
    // waits, and leave the request to MPI_Abort at shutdown.
    comm_.shared().fail(str("rank ", comm_.rank(), " left ", what_, " unfinished"));
  }

  bool test_phases() {
    while (true) {
      if (!reqs_.empty()) {
        int done = 0;
        mpi_check(MPI_Testall(static_cast<int>(reqs_.size()), reqs_.data(), &done,
                              MPI_STATUSES_IGNORE),
                  "MPI_Testall", what_);
        if (!done) return false;
        reqs_.clear();
      }
      if (!phases_->next(reqs_)) {
        phases_.reset();  // returns its scratch to the pool
        return true;
      }
    }
  }

  void set_recv(std::size_t count, DType dtype) {
    is_recv_ = true;
    recv_count_ = count;
    recv_dtype_ = dtype;
  }

 private:
  Error already_failed() {
    std::lock_guard lock(comm_.shared().mu);
    return comm_error(
        str(what_, ": stopped because communication already failed: ", comm_.shared().failure));
  }

  void check_recv_count(const MPI_Status& status) {
    if (!is_recv_) return;
    int got = 0;
    MPI_Get_count(&status, mpi_type(recv_dtype_), &got);
    if (static_cast<std::size_t>(got) != recv_count_)
      throw comm_error(str(what_, ": message size mismatch: send of ", got, " ",
                           dtype_name(recv_dtype_), ", receive of ", recv_count_, " ",
                           dtype_name(recv_dtype_)));
  }

  MpiCommunicator& comm_;  // outlives its requests (caller's contract)
  MPI_Request req_;
  std::string what_;
  std::int64_t seq_;  // collective number, or -1 for point-to-point
  int peer_;          // point-to-point peer, or -1
  std::function<void()> on_complete_;
  std::unique_ptr<MpiPhases> phases_;  // phased operation, or null
  std::vector<MPI_Request> reqs_;      // its current phase's requests
  bool is_recv_ = false;
  std::size_t recv_count_ = 0;
  DType recv_dtype_ = DType::kU8;
};

}  // namespace

MPI_Comm dup_with_deadline(MPI_Comm comm, std::chrono::milliseconds timeout,
                           std::string_view what) {
  MPI_Comm out = MPI_COMM_NULL;
  MPI_Request req = MPI_REQUEST_NULL;
  mpi_check(MPI_Comm_idup(comm, &out, &req), "MPI_Comm_idup", what);
  const auto deadline = Clock::now() + timeout;
  int done = 0;
  while (true) {
    mpi_check(MPI_Test(&req, &done, MPI_STATUS_IGNORE), "MPI_Test", what);
    if (done) return out;
    if (Clock::now() > deadline)
      throw timeout_error(str(what, ": creating a communicator timed out after ",
                              seconds_text(timeout), " (some rank did not join)"),
                          kTimeoutHint);
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

MpiCommunicator::MpiCommunicator(std::shared_ptr<MpiShared> shared, MPI_Comm comm, Options options)
    : Communicator(options), shared_(std::move(shared)), comm_(comm) {
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  world_ranks_.resize(size_);
  std::vector<int> mine(size_);
  for (int r = 0; r < size_; ++r) mine[r] = r;
  MPI_Group group = MPI_GROUP_NULL, world_group = MPI_GROUP_NULL;
  MPI_Comm_group(comm_, &group);
  MPI_Comm_group(MPI_COMM_WORLD, &world_group);
  MPI_Group_translate_ranks(group, size_, mine.data(), world_group, world_ranks_.data());
  MPI_Group_free(&group);
  MPI_Group_free(&world_group);
  side_ = dup_with_deadline(comm_, options.timeout, "status side channel");
  reduce_ = dup_with_deadline(comm_, options.timeout, "reduction channel");
  std::lock_guard lock(shared_->mu);
  shared_->live.push_back(this);
}

MpiCommunicator::~MpiCommunicator() {
  {
    std::lock_guard lock(shared_->mu);
    std::erase(shared_->live, this);
    for (auto& reply : replies_) MPI_Request_free(&reply.first);
  }
  // Freeing is collective in spirit; after a failure, leave it to MPI_Abort.
  if (!shared_->failed.load()) {
    if (side_ != MPI_COMM_NULL) MPI_Comm_free(&side_);
    if (reduce_ != MPI_COMM_NULL) MPI_Comm_free(&reduce_);
    if (comm_ != MPI_COMM_WORLD && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
  }
}

std::uint64_t MpiCommunicator::enter(std::string_view name, std::string_view context,
                                     std::string* what) {
  std::lock_guard lock(shared_->mu);
  if (shared_->failed.load())
    throw comm_error(
        str(name, ": stopped because communication already failed: ", shared_->failure));
  const std::uint64_t seq = entered_++;
  *what = describe(name, seq, context);
  last_started_ = *what;
  return seq;
}

Request MpiCommunicator::make_request(MPI_Request req, std::string what, std::int64_t seq, int peer,
                                      std::function<void()> on_complete) {
  return Request(
      std::make_unique<MpiRequest>(*this, req, std::move(what), seq, peer, std::move(on_complete)));
}

Request MpiCommunicator::make_phased_request(std::unique_ptr<MpiPhases> phases, std::string what,
                                            std::int64_t seq) {
  std::vector<MPI_Request> reqs;
  if (!phases->next(reqs)) return Request();  // nothing to exchange (one rank)
  return Request(std::make_unique<MpiRequest>(*this, std::move(phases), std::move(reqs),
                                              std::move(what), seq));
}

bool MpiCommunicator::poll_until(const std::function<bool()>& test, Clock::time_point deadline) {
  // Spin briefly (low latency), then back off to sleeps: ranks often share cores,
  // and a busy poll would steal the CPU from the very peer we wait for.
  const auto start = Clock::now();
  auto next_service = start;
  std::chrono::microseconds nap{20};
  while (true) {
    if (test()) return true;
    const auto now = Clock::now();
    if (now >= next_service) {
      shared_->service_all();
      next_service = now + std::chrono::milliseconds(2);
    }
    if (now > deadline) return false;
    if (now - start < std::chrono::microseconds(200)) {
      sched_yield();
    } else {
      std::this_thread::sleep_for(nap);
      nap = std::min(nap * 2, std::chrono::microseconds(1000));
    }
  }
}

// All-reduce and reduce-scatter are built from point-to-point messages
// (mpi_ordered_mpi.cpp) rather than MPI_Iallreduce/MPI_Ireduce_scatter_block:
// every element is summed in rank order 0, 1, ..., N-1 (bitwise the thread
// backend's result and a single rank's gradient accumulation order, whatever N),
// and the scratch is pooled, where Open MPI's libnbc mallocs and copies the whole
// buffer at every call (page faults that cost a third of a d6 step; docs/parallel.md).
int MpiCommunicator::reduce_tag(std::uint64_t seq) {
  // Two tags per collective (one per phase); wraps well below MPI's minimum tag_ub.
  return static_cast<int>((seq % 16000) * 2);
}

Request MpiCommunicator::iall_reduce(const void* send, void* recv, std::size_t count, DType dtype,
                                     ReduceOp op, std::string_view context) {
  std::string what;
  const auto seq = enter("all_reduce", context, &what);
  mpi_count(count, what);
  return make_phased_request(
      ordered_reduce(*this, send, recv, count, dtype, op, false, reduce_tag(seq)), std::move(what),
      static_cast<std::int64_t>(seq));
}

Request MpiCommunicator::ireduce_scatter(const void* send, void* recv, std::size_t count,
                                         DType dtype, ReduceOp op, std::string_view context) {
  std::string what;
  const auto seq = enter("reduce_scatter", context, &what);
  mpi_count(count, what);
  return make_phased_request(
      ordered_reduce(*this, send, recv, count, dtype, op, true, reduce_tag(seq)), std::move(what),
      static_cast<std::int64_t>(seq));
}

Request MpiCommunicator::iall_gather(const void* send, void* recv, std::size_t count, DType dtype,
                                     std::string_view context) {
  std::string what;
  const auto seq = enter("all_gather", context, &what);
  const bool in_place =
      send == static_cast<const std::byte*>(recv) + rank_ * count * dtype_size(dtype);
  const int n = mpi_count(count, what);
  MPI_Request req = MPI_REQUEST_NULL;
  mpi_check(MPI_Iallgather(in_place ? MPI_IN_PLACE : send, n, mpi_type(dtype), recv, n,
                           mpi_type(dtype), comm_, &req),
            "MPI_Iallgather", what);
  return make_request(req, std::move(what), static_cast<std::int64_t>(seq), -1);
}

Request MpiCommunicator::ibroadcast(void* data, std::size_t count, DType dtype, int root,
                                    std::string_view context) {
  check_peer(root, "broadcast root");
  std::string what;
  const auto seq = enter("broadcast", context, &what);
  MPI_Request req = MPI_REQUEST_NULL;
  mpi_check(MPI_Ibcast(data, mpi_count(count, what), mpi_type(dtype), root, comm_, &req),
            "MPI_Ibcast", what);
  return make_request(req, std::move(what), static_cast<std::int64_t>(seq), -1);
}

Request MpiCommunicator::ibarrier(std::string_view context) {
  std::string what;
  const auto seq = enter("barrier", context, &what);
  MPI_Request req = MPI_REQUEST_NULL;
  mpi_check(MPI_Ibarrier(comm_, &req), "MPI_Ibarrier", what);
  return make_request(req, std::move(what), static_cast<std::int64_t>(seq), -1);
}

Request MpiCommunicator::isend(const void* data, std::size_t count, DType dtype, int dest, int tag,
                               std::string_view context) {
  check_peer(dest, "send");
  WEFT_CHECK(tag >= 0, "send: tag must be >= 0");
  const std::string what = describe(str("send to rank ", dest, " tag ", tag), 0, context);
  if (shared_->failed.load()) throw comm_error(str(what, ": communication already failed"));
  MPI_Request req = MPI_REQUEST_NULL;
  mpi_check(MPI_Isend(data, mpi_count(count, what), mpi_type(dtype), dest, tag, comm_, &req),
            "MPI_Isend", what);
  return make_request(req, what, -1, dest);
}

Request MpiCommunicator::irecv(void* data, std::size_t count, DType dtype, int source, int tag,
                               std::string_view context) {
  check_peer(source, "recv");
  WEFT_CHECK(tag >= 0, "recv: tag must be >= 0");
  const std::string what = describe(str("recv from rank ", source, " tag ", tag), 0, context);
  if (shared_->failed.load()) throw comm_error(str(what, ": communication already failed"));
  MPI_Request req = MPI_REQUEST_NULL;
  mpi_check(MPI_Irecv(data, mpi_count(count, what), mpi_type(dtype), source, tag, comm_, &req),
            "MPI_Irecv", what);
  auto impl = std::make_unique<MpiRequest>(*this, req, what, -1, source, std::function<void()>{});
  impl->set_recv(count, dtype);
  return Request(std::move(impl));
}

std::unique_ptr<Communicator> MpiCommunicator::split(int color, int key, std::string_view context) {
  // Gather everyone's (color, key) first, with a deadline: once it completes every
  // member is present, so the blocking MPI_Comm_split that follows cannot hang.
  const std::int64_t mine[2] = {color, key};
  std::vector<std::int64_t> all(2 * static_cast<std::size_t>(size_));
  iall_gather(mine, all.data(), 2, DType::kI64, context.empty() ? "split" : context).wait();
  MPI_Comm out = MPI_COMM_NULL;
  mpi_check(MPI_Comm_split(comm_, color < 0 ? MPI_UNDEFINED : color, key, &out), "MPI_Comm_split",
            "split");
  if (out == MPI_COMM_NULL) return nullptr;
  return std::make_unique<MpiCommunicator>(shared_, out, options());
}

}  // namespace weft::comm::detail
