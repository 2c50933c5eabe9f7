// Thread backend: communicators, requests, point-to-point matching, split, the
// world's failure state and the rank launcher. See thread_communicator.hpp; the
// data movement of collectives is in thread_collective.cpp.
#include "parallel/comm/thread_communicator.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <thread>
#include <utility>

#include "core/log.hpp"
#include "parallel/comm/thread_state.hpp"

namespace weft::comm {
namespace detail {

void ThreadWorldState::fail_locked(int world_rank, ErrorKind kind, const std::string& reason) {
  if (failed.load()) return;
  failed_rank = world_rank;
  failure_kind = kind;
  failure = reason;
  failed.store(true);
  cv.notify_all();
}

Error ThreadWorldState::failure_error_locked(std::string_view what) const {
  return comm_error(str(what, ": stopped because world rank ", failed_rank, " failed: ", failure));
}

namespace {

using Clock = std::chrono::steady_clock;

std::string describe(std::string_view name, std::uint64_t seq, std::string_view context) {
  std::string out = str(name, " #", seq);
  if (!context.empty()) out += str(" (", context, ")");
  return out;
}

std::string seconds_text(std::chrono::milliseconds ms) {
  return str(static_cast<double>(ms.count()) / 1000.0, " s");
}

const char* kTimeoutHint =
    "a rank is stalled or dead; if it is only slow (e.g. a long first step), raise --comm-timeout";

class ThreadCommunicator;

// ---- collective request -------------------------------------------------------

class CollRequest final : public RequestImpl {
 public:
  CollRequest(std::shared_ptr<ThreadWorldState> world, std::shared_ptr<Group> group,
              std::shared_ptr<CollOp> op, const Communicator& comm)
      : world_(std::move(world)), group_(std::move(group)), op_(std::move(op)), comm_(comm) {}

  // test() does at most this rank's share of the chunks, so polling between
  // layers stays short and the work spreads over the ranks; wait() does all.
  bool test() override { return progress(false); }

  bool progress(bool all) {
    {
      std::lock_guard lock(world_->mu);
      if (op_->complete) return true;
      check_locked();
      if (!op_->all_arrived.load()) return false;
    }
    const std::size_t share = (op_->n_chunks + comm_.size() - 1) / comm_.size();
    coll_work(*world_, *op_, all ? op_->n_chunks : share);
    std::lock_guard lock(world_->mu);
    if (op_->complete) return true;
    check_locked();
    return false;
  }

  void wait() override {
    const auto deadline = Clock::now() + comm_.options().timeout;
    while (!progress(true)) {
      std::unique_lock lock(world_->mu);
      auto ready = [&] {
        return op_->complete || world_->failed.load() || missing_left_locked() >= 0 ||
               (op_->all_arrived.load() && op_->next_chunk.load() < op_->n_chunks);
      };
      if (op_->all_arrived.load()) {
        // Everyone is here; the rest is local work by peers, which always ends.
        world_->cv.wait(lock, ready);
      } else if (!world_->cv.wait_until(lock, deadline, ready)) {
        const std::string msg = timeout_message_locked();
        world_->fail_locked(comm_.world_rank_of(comm_.rank()), ErrorKind::kTimeout, msg);
        throw timeout_error(msg, kTimeoutHint);
      }
    }
  }

  void abandon() override {
    std::unique_lock lock(world_->mu);
    if (op_->complete) return;
    world_->fail_locked(comm_.world_rank_of(comm_.rank()), ErrorKind::kComm,
                        str("rank ", comm_.rank(), " left ", what(), " unfinished"));
    // Peers may still be writing this rank's buffers: let them stop first.
    world_->cv.wait(lock, [&] { return op_->active == 0; });
  }

 private:
  std::string what() const { return describe(coll_kind_name(op_->kind), op_->seq, op_->context); }

  // Throws when the world failed or a missing member already returned.
  void check_locked() {
    if (world_->failed.load()) throw world_->failure_error_locked(what());
    const int gone = missing_left_locked();
    if (gone >= 0) {
      const std::string msg = str(what(), ": ", format_ranks(comm_, std::vector<int>{gone}),
                                  " finished without joining it");
      world_->fail_locked(comm_.world_rank_of(gone), ErrorKind::kComm, msg);
      throw comm_error(msg);
    }
  }

  // A member that has not arrived but whose thread already returned, or -1.
  int missing_left_locked() const {
    for (int r = 0; r < comm_.size(); ++r)
      if (!op_->arrived[r] && world_->left[group_->world_ranks[r]]) return r;
    return -1;
  }

  std::string timeout_message_locked() const {
    std::vector<int> missing;
    for (int r = 0; r < comm_.size(); ++r)
      if (!op_->arrived[r]) missing.push_back(r);
    std::string msg =
        str(what(), " timed out after ", seconds_text(comm_.options().timeout), ": ",
            format_ranks(comm_, missing), missing.size() == 1 ? " has" : " have", " not arrived");
    for (int r : missing) {
      const std::string& last = group_->last_started[r];
      msg += str("; rank ", r, "'s last collective here: ", last.empty() ? "none" : last);
    }
    return msg;
  }

  std::shared_ptr<ThreadWorldState> world_;
  std::shared_ptr<Group> group_;
  std::shared_ptr<CollOp> op_;
  const Communicator& comm_;  // outlives its requests (caller's contract)
};

// ---- point-to-point request -------------------------------------------------------

class P2pRequest final : public RequestImpl {
 public:
  P2pRequest(std::shared_ptr<ThreadWorldState> world, std::shared_ptr<Group> group,
             std::shared_ptr<P2pPost> post, std::tuple<int, int, int> key, bool is_send,
             std::string what, const Communicator& comm)
      : world_(std::move(world)),
        group_(std::move(group)),
        post_(std::move(post)),
        key_(key),
        is_send_(is_send),
        what_(std::move(what)),
        comm_(comm) {}

  bool test() override {
    std::lock_guard lock(world_->mu);
    return done_locked();
  }

  void wait() override {
    const auto deadline = Clock::now() + comm_.options().timeout;
    std::unique_lock lock(world_->mu);
    while (!done_locked()) {
      const bool copying = post_->state == P2pPost::State::kCopying;
      if (copying) {
        world_->cv.wait(lock);  // the peer is copying: local work that always ends
      } else if (world_->cv.wait_until(lock, deadline) == std::cv_status::timeout &&
                 post_->state == P2pPost::State::kQueued) {
        const std::string msg =
            str(what_, " timed out after ", seconds_text(comm_.options().timeout), ": ",
                format_ranks(comm_, std::vector<int>{peer()}), " posted no matching ",
                is_send_ ? "receive" : "send");
        world_->fail_locked(comm_.world_rank_of(comm_.rank()), ErrorKind::kTimeout, msg);
        throw timeout_error(msg, kTimeoutHint);
      }
    }
  }

  void abandon() override {
    std::unique_lock lock(world_->mu);
    if (post_->state == P2pPost::State::kDone) return;
    world_->fail_locked(comm_.world_rank_of(comm_.rank()), ErrorKind::kComm,
                        str("rank ", comm_.rank(), " left ", what_, " unfinished"));
    world_->cv.wait(lock, [&] { return post_->state != P2pPost::State::kCopying; });
    if (post_->state == P2pPost::State::kQueued) {
      auto& queue = is_send_ ? group_->sends[key_] : group_->recvs[key_];
      std::erase(queue, post_);
      post_->state = P2pPost::State::kAbandoned;
    }
  }

 private:
  int peer() const { return is_send_ ? std::get<1>(key_) : std::get<0>(key_); }

  bool done_locked() {
    if (post_->state == P2pPost::State::kDone) {
      if (!post_->error.empty()) throw comm_error(str(what_, ": ", post_->error));
      return true;
    }
    if (world_->failed.load()) throw world_->failure_error_locked(what_);
    if (post_->state == P2pPost::State::kQueued && world_->left[group_->world_ranks[peer()]]) {
      const std::string msg = str(what_, ": ", format_ranks(comm_, std::vector<int>{peer()}),
                                  " finished without a matching ", is_send_ ? "receive" : "send");
      world_->fail_locked(comm_.world_rank_of(peer()), ErrorKind::kComm, msg);
      throw comm_error(msg);
    }
    return false;
  }

  std::shared_ptr<ThreadWorldState> world_;
  std::shared_ptr<Group> group_;
  std::shared_ptr<P2pPost> post_;
  std::tuple<int, int, int> key_;  // (src, dst, tag) in group ranks
  bool is_send_;
  std::string what_;
  const Communicator& comm_;
};

// ---- communicator -------------------------------------------------------------------

class ThreadCommunicator final : public Communicator {
 public:
  ThreadCommunicator(std::shared_ptr<ThreadWorldState> world, std::shared_ptr<Group> group,
                     int rank, Options options)
      : Communicator(options), world_(std::move(world)), group_(std::move(group)), rank_(rank) {}

  int rank() const override { return rank_; }
  int size() const override { return static_cast<int>(group_->world_ranks.size()); }
  int world_rank_of(int r) const override { return group_->world_ranks[r]; }
  std::string_view backend() const override { return "threads"; }

  Request iall_reduce(const void* send, void* recv, std::size_t count, DType dtype, ReduceOp op,
                      std::string_view context) override {
    return start(CollKind::kAllReduce, send, recv, count, dtype, op, 0, context);
  }
  Request ireduce_scatter(const void* send, void* recv, std::size_t count, DType dtype, ReduceOp op,
                          std::string_view context) override {
    return start(CollKind::kReduceScatter, send, recv, count, dtype, op, 0, context);
  }
  Request iall_gather(const void* send, void* recv, std::size_t count, DType dtype,
                      std::string_view context) override {
    return start(CollKind::kAllGather, send, recv, count, dtype, ReduceOp::kSum, 0, context);
  }
  Request ibroadcast(void* data, std::size_t count, DType dtype, int root,
                     std::string_view context) override {
    check_peer(root, "broadcast root");
    return start(CollKind::kBroadcast, data, data, count, dtype, ReduceOp::kSum, root, context);
  }
  Request ibarrier(std::string_view context) override {
    return start(CollKind::kBarrier, nullptr, nullptr, 0, DType::kU8, ReduceOp::kSum, 0, context);
  }

  Request isend(const void* data, std::size_t count, DType dtype, int dest, int tag,
                std::string_view context) override {
    check_peer(dest, "send");
    WEFT_CHECK(tag >= 0, "send: tag must be >= 0");
    auto post = std::make_shared<P2pPost>();
    post->send = data;
    post->count = count;
    post->dtype = dtype;
    return post_p2p(std::move(post), {rank_, dest, tag}, true,
                    describe(str("send to rank ", dest, " tag ", tag), 0, context));
  }
  Request irecv(void* data, std::size_t count, DType dtype, int source, int tag,
                std::string_view context) override {
    check_peer(source, "recv");
    WEFT_CHECK(tag >= 0, "recv: tag must be >= 0");
    auto post = std::make_shared<P2pPost>();
    post->recv = data;
    post->count = count;
    post->dtype = dtype;
    return post_p2p(std::move(post), {source, rank_, tag}, false,
                    describe(str("recv from rank ", source, " tag ", tag), 0, context));
  }

  std::unique_ptr<Communicator> split(int color, int key, std::string_view context) override;

 private:
  Request start(CollKind kind, const void* send, void* recv, std::size_t count, DType dtype,
                ReduceOp op, int root, std::string_view context);
  Request post_p2p(std::shared_ptr<P2pPost> post, std::tuple<int, int, int> key, bool is_send,
                   std::string what);

  std::shared_ptr<ThreadWorldState> world_;
  std::shared_ptr<Group> group_;
  int rank_;
  std::uint64_t next_seq_ = 0;    // collectives started on this communicator
  std::uint64_t next_split_ = 0;  // splits made from it
};

Request ThreadCommunicator::start(CollKind kind, const void* send, void* recv, std::size_t count,
                                  DType dtype, ReduceOp op, int root, std::string_view context) {
  const std::uint64_t seq = next_seq_++;
  const std::string what = describe(coll_kind_name(kind), seq, context);
  std::shared_ptr<CollOp> coll;
  {
    std::lock_guard lock(world_->mu);
    if (world_->failed.load()) throw world_->failure_error_locked(what);
    auto& slot = group_->pending[seq];
    if (!slot) {
      slot = std::make_shared<CollOp>();
      slot->kind = kind;
      slot->dtype = dtype;
      slot->op = op;
      slot->count = count;
      slot->root = root;
      slot->seq = seq;
      slot->context = std::string(context);
      slot->send.assign(size(), nullptr);
      slot->recv.assign(size(), nullptr);
      slot->arrived.assign(size(), 0);
      coll_plan_chunks(*slot, size());
    } else if (slot->kind != kind || slot->dtype != dtype || slot->count != count ||
               slot->op != op || slot->root != root) {
      const std::string msg = str(
          "collective mismatch at #", seq, " on rank ", rank_, ": started ", coll_kind_name(kind),
          "(count ", count, ", ", dtype_name(dtype), ", ", reduce_op_name(op), ", root ", root,
          ") but a peer started ", coll_kind_name(slot->kind), "(count ", slot->count, ", ",
          dtype_name(slot->dtype), ", ", reduce_op_name(slot->op), ", root ", slot->root, ")");
      world_->fail_locked(world_rank_of(rank_), ErrorKind::kComm, msg);
      throw comm_error(msg, "every rank must start the same collectives in the same order");
    }
    coll = slot;
    coll->send[rank_] = kind == CollKind::kBroadcast ? recv : send;
    coll->recv[rank_] = recv;
    coll->arrived[rank_] = 1;
    group_->entered[rank_] = seq + 1;
    group_->last_started[rank_] = what;
    if (++coll->n_arrived == size()) {
      group_->pending.erase(seq);
      coll->all_arrived.store(true);
      if (coll->n_chunks == 0) coll->complete = true;
    }
  }
  world_->cv.notify_all();
  return Request(std::make_unique<CollRequest>(world_, group_, std::move(coll), *this));
}

Request ThreadCommunicator::post_p2p(std::shared_ptr<P2pPost> post, std::tuple<int, int, int> key,
                                     bool is_send, std::string what) {
  std::shared_ptr<P2pPost> match;
  {
    std::lock_guard lock(world_->mu);
    if (world_->failed.load()) throw world_->failure_error_locked(what);
    auto& mine = is_send ? group_->sends[key] : group_->recvs[key];
    auto& theirs = is_send ? group_->recvs[key] : group_->sends[key];
    if (theirs.empty()) {
      mine.push_back(post);
    } else {
      match = theirs.front();
      theirs.pop_front();
      if (match->count != post->count || match->dtype != post->dtype) {
        const std::string err =
            str("message size mismatch: send of ", (is_send ? post : match)->count, " ",
                dtype_name((is_send ? post : match)->dtype), ", receive of ",
                (is_send ? match : post)->count, " ", dtype_name((is_send ? match : post)->dtype));
        post->error = match->error = err;
        post->state = match->state = P2pPost::State::kDone;
        match.reset();
      } else {
        post->state = match->state = P2pPost::State::kCopying;
      }
    }
  }
  if (match) {
    // Copy outside the lock; abandon() of either side waits while kCopying.
    const P2pPost& from = is_send ? *post : *match;
    const P2pPost& to = is_send ? *match : *post;
    if (post->count > 0) std::memcpy(to.recv, from.send, post->count * dtype_size(post->dtype));
    std::lock_guard lock(world_->mu);
    post->state = match->state = P2pPost::State::kDone;
  }
  world_->cv.notify_all();
  return Request(std::make_unique<P2pRequest>(world_, group_, std::move(post), key, is_send,
                                              std::move(what), *this));
}

std::unique_ptr<Communicator> ThreadCommunicator::split(int color, int key,
                                                        std::string_view context) {
  const std::int64_t mine[2] = {color, key};
  std::vector<std::int64_t> all(2 * static_cast<std::size_t>(size()));
  iall_gather(mine, all.data(), 2, DType::kI64, context.empty() ? "split" : context).wait();
  const std::uint64_t split_number = next_split_++;
  if (color < 0) return nullptr;
  std::vector<int> members;  // old ranks with my color, ordered by (key, old rank)
  for (int r = 0; r < size(); ++r)
    if (all[2 * r] == color) members.push_back(r);
  std::stable_sort(members.begin(), members.end(),
                   [&](int a, int b) { return all[2 * a + 1] < all[2 * b + 1]; });
  const int new_rank =
      static_cast<int>(std::find(members.begin(), members.end(), rank_) - members.begin());
  std::shared_ptr<Group> group;
  {
    std::lock_guard lock(world_->mu);
    auto& slot = world_->splits[{group_->id, split_number, color}];
    if (!slot) {
      slot = std::make_shared<Group>();
      slot->id = world_->next_group_id++;
      for (int r : members) slot->world_ranks.push_back(group_->world_ranks[r]);
      slot->entered.assign(members.size(), 0);
      slot->last_started.assign(members.size(), {});
    }
    group = slot;
  }
  return std::make_unique<ThreadCommunicator>(world_, std::move(group), new_rank, options());
}

}  // namespace
}  // namespace detail

// ---- world and launcher -----------------------------------------------------------------

ThreadWorld::ThreadWorld(int size, Options options)
    : state_(std::make_shared<detail::ThreadWorldState>()) {
  if (size < 1) throw config_error(str("thread world needs at least 1 rank, got ", size));
  state_->size = size;
  state_->options = options;
  state_->left.assign(size, 0);
  auto group = std::make_shared<detail::Group>();
  group->id = 0;
  for (int r = 0; r < size; ++r) group->world_ranks.push_back(r);
  group->entered.assign(size, 0);
  group->last_started.assign(size, {});
  state_->world_group = std::move(group);
}

ThreadWorld::~ThreadWorld() = default;

int ThreadWorld::size() const {
  return state_->size;
}

std::unique_ptr<Communicator> ThreadWorld::communicator(int rank) {
  WEFT_CHECK(rank >= 0 && rank < state_->size, "thread rank ", rank, " outside 0..",
             state_->size - 1);
  return std::make_unique<detail::ThreadCommunicator>(state_, state_->world_group, rank,
                                                      state_->options);
}

void ThreadWorld::fail(int rank, ErrorKind kind, const std::string& reason) {
  std::lock_guard lock(state_->mu);
  state_->fail_locked(rank, kind, reason);
}

void ThreadWorld::leave(int rank) {
  {
    std::lock_guard lock(state_->mu);
    state_->left[rank] = 1;
  }
  state_->cv.notify_all();
}

bool ThreadWorld::failed() const {
  return state_->failed.load();
}

int ThreadWorld::failed_rank() const {
  std::lock_guard lock(state_->mu);
  return state_->failed_rank;
}

void run_thread_ranks(int size, const Options& options,
                      const std::function<void(Communicator&)>& fn) {
  ThreadWorld world(size, options);
  std::vector<char> threw(size, 0);
  std::vector<ErrorKind> kinds(size, ErrorKind::kRuntime);
  std::vector<std::string> messages(size);
  std::vector<std::thread> threads;
  threads.reserve(size);
  for (int r = 0; r < size; ++r) {
    threads.emplace_back([&, r] {
      log_set_rank(r, size);
      try {
        auto comm = world.communicator(r);
        fn(*comm);
        world.leave(r);
        return;
      } catch (const Error& e) {
        kinds[r] = e.kind();
        messages[r] = e.what();
      } catch (const std::exception& e) {
        messages[r] = e.what();
      } catch (...) {
        messages[r] = "unknown exception";
      }
      threw[r] = 1;
      world.fail(r, kinds[r], messages[r]);
    });
  }
  for (auto& t : threads) t.join();
  if (!world.failed()) return;
  // The root cause: the rank that failed the world first, if it threw; else the
  // lowest rank that threw.
  int root = world.failed_rank();
  if (root < 0 || !threw[root]) {
    root = -1;
    for (int r = size - 1; r >= 0; --r)
      if (threw[r]) root = r;
  }
  if (root < 0) throw comm_error("thread ranks failed without an error");
  throw Error(kinds[root], str("rank ", root, ": ", messages[root]));
}

}  // namespace weft::comm
