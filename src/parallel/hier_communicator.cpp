// Hierarchical all-reduce: the three-step state machine of each all-reduce and the
// in-order queue that drives them. See hier_communicator.hpp.
#include "parallel/hier_communicator.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <exception>
#include <map>

#include "core/log.hpp"

namespace weft::parallel {

AllReduceMode parse_allreduce_mode(std::string_view text) {
  if (text == "flat") return AllReduceMode::kFlat;
  if (text == "hier") return AllReduceMode::kHier;
  if (text == "auto") return AllReduceMode::kAuto;
  throw input_error(str("--allreduce '", text, "': expected flat, hier or auto"));
}

bool hier_possible(std::span<const int> node_of_member, std::string* why) {
  std::map<int, int> per_node;  // node → members
  for (int n : node_of_member) ++per_node[n];
  if (per_node.empty()) {
    if (why) *why = "no members";
    return false;
  }
  const int first = per_node.begin()->second;
  for (const auto& [node, members] : per_node) {
    if (node < 0) {
      if (why) *why = "a member has no node";
      return false;
    }
    if (members != first) {
      if (why)
        *why = str("nodes hold different numbers of members (node ", per_node.begin()->first,
                   ": ", first, ", node ", node, ": ", members, ")");
      return false;
    }
  }
  return true;
}

bool hier_worthwhile(std::span<const int> node_of_member) {
  if (!hier_possible(node_of_member)) return false;
  std::map<int, int> per_node;
  for (int n : node_of_member) ++per_node[n];
  return per_node.size() > 1 && per_node.begin()->second > 1;
}

namespace detail {

// One hierarchical all-reduce in flight. Buffer: recv (count elements), worked on
// in place: [0, main) in L pieces of `piece` (this rank owns piece local_rank),
// [main, count) a tail of < L elements reduced whole in steps 1 and 2.
struct HierOp {
  std::byte* recv = nullptr;
  std::size_t count = 0, piece = 0, main = 0;
  comm::DType dtype = comm::DType::kF32;
  comm::ReduceOp op = comm::ReduceOp::kSum;
  std::string context;
  int stage = 0;  // 0 node reduce-scatter, 1 cross all-reduce, 2 node all-gather, 3 done
  std::vector<comm::Request> reqs;  // the current stage's operations
};

struct HierQueue {
  // One communicator per step, so each sees one kind of operation, in start order.
  comm::Communicator* node = nullptr;    // step 1: reduce-scatter (+ tail all-reduce)
  comm::Communicator* cross = nullptr;   // step 2
  comm::Communicator* gather = nullptr;  // step 3: the node's ranks again
  int local_rank = 0;
  std::deque<std::shared_ptr<HierOp>> ops;  // in start order; done ones popped from the front

  void start_stage(HierOp& o) {
    const std::size_t es = comm::dtype_size(o.dtype);
    std::byte* mine = o.recv + static_cast<std::size_t>(local_rank) * o.piece * es;
    std::byte* tail = o.recv + o.main * es;
    const std::size_t tail_n = o.count - o.main;
    switch (o.stage) {
      case 0:
        if (o.piece > 0)
          o.reqs.push_back(node->ireduce_scatter(o.recv, mine, o.piece, o.dtype, o.op,
                                                 str(o.context, " [hier 1/3: node reduce-scatter]")));
        if (tail_n > 0)
          o.reqs.push_back(node->iall_reduce(tail, tail, tail_n, o.dtype, o.op,
                                             str(o.context, " [hier 1/3: node tail]")));
        break;
      case 1:
        if (o.piece > 0)
          o.reqs.push_back(cross->iall_reduce(mine, mine, o.piece, o.dtype, o.op,
                                              str(o.context, " [hier 2/3: across nodes]")));
        if (tail_n > 0)
          o.reqs.push_back(cross->iall_reduce(tail, tail, tail_n, o.dtype, o.op,
                                              str(o.context, " [hier 2/3: tail across nodes]")));
        break;
      case 2:
        if (o.piece > 0)
          o.reqs.push_back(gather->iall_gather(mine, o.recv, o.piece, o.dtype,
                                             str(o.context, " [hier 3/3: node all-gather]")));
        break;
      default:
        break;
    }
  }

  // Moves o forward while its stage < limit: a stage ends when all its operations
  // completed (block: waits for them), then the next one starts.
  void advance(HierOp& o, int limit, bool block) {
    while (o.stage < limit && o.stage < 3) {
      for (comm::Request& r : o.reqs) {
        if (block)
          r.wait();
        else if (!r.test())
          return;
      }
      o.reqs.clear();
      ++o.stage;
      if (o.stage < 3) start_stage(o);
    }
  }

  void pop_done() {
    while (!ops.empty() && ops.front()->stage == 3) ops.pop_front();
  }

  // Non-blocking: every op as far as it may go; an op never passes the stage of an
  // earlier one, so each communicator sees the steps in start order on every rank.
  void progress() {
    int limit = 3;
    for (const auto& o : ops) {
      advance(*o, limit, false);
      limit = o->stage;
    }
    pop_done();
  }

  // Blocking: completes every op up to and including `target` (all when nullptr).
  void wait_through(const HierOp* target) {
    for (const auto& o : ops) {
      advance(*o, 3, true);
      if (o.get() == target) break;
    }
    pop_done();
  }
};

namespace {

class HierRequest final : public comm::RequestImpl {
 public:
  HierRequest(std::shared_ptr<HierQueue> queue, std::shared_ptr<HierOp> op)
      : queue_(std::move(queue)), op_(std::move(op)) {}
  bool test() override {
    if (op_->stage == 3) return true;
    queue_->progress();
    return op_->stage == 3;
  }
  void wait() override {
    if (op_->stage != 3) queue_->wait_through(op_.get());
  }
  void abandon() override {
    // The sub-requests fail or give up on their own (their communicators share the
    // failure state); take the op out of the queue so nothing drives it again.
    std::erase(queue_->ops, op_);
    op_->stage = 3;
    op_->reqs.clear();
  }

 private:
  std::shared_ptr<HierQueue> queue_;
  std::shared_ptr<HierOp> op_;
};

}  // namespace
}  // namespace detail

HierCommunicator::HierCommunicator(comm::Communicator& flat, std::span<const int> node_of_member)
    : Communicator(flat.options()), flat_(flat) {
  WEFT_CHECK(static_cast<int>(node_of_member.size()) == flat.size(), "node_of_member has ",
             node_of_member.size(), " entries for ", flat.size(), " members");
  std::string why;
  if (!hier_possible(node_of_member, &why))
    throw config_error(str("hierarchical all-reduce over ", flat.size(), " ranks: ", why),
                       "use --allreduce flat (or auto), or start the same number of ranks per node");
  const int me = flat.rank();
  const int my_node = node_of_member[static_cast<std::size_t>(me)];
  std::map<int, int> per_node;
  for (int r = 0; r < flat.size(); ++r) {
    const int n = node_of_member[static_cast<std::size_t>(r)];
    if (r < me && n == my_node) ++local_rank_;
    ++per_node[n];
  }
  nodes_ = static_cast<int>(per_node.size());
  local_size_ = per_node.begin()->second;
  node_ = flat.split(my_node, me, "hier all-reduce: node split");
  cross_ = flat.split(local_rank_, me, "hier all-reduce: cross-node split");
  gather_ = node_->split(0, local_rank_, "hier all-reduce: node gather split");
  WEFT_CHECK(node_ && cross_ && gather_ && node_->size() == local_size_ &&
             cross_->size() == nodes_ && node_->rank() == local_rank_ &&
             gather_->rank() == local_rank_);
  queue_ = std::make_shared<detail::HierQueue>();
  queue_->node = node_.get();
  queue_->cross = cross_.get();
  queue_->gather = gather_.get();
  queue_->local_rank = local_rank_;
}

HierCommunicator::~HierCommunicator() {
  if (queue_->ops.empty()) return;
  // Requests must complete before their communicator goes; finish what is left
  // (unless unwinding, when the sub-requests abandon themselves).
  if (std::uncaught_exceptions() == 0) {
    try {
      queue_->wait_through(nullptr);
    } catch (const std::exception& e) {
      log_error("hierarchical all-reduce left pending at shutdown failed: ", e.what());
    }
  }
  // Whatever is left goes now, while its communicators exist; the callers' Requests
  // then find their all-reduce done (stage 3) and touch nothing.
  for (const auto& o : queue_->ops) {
    o->reqs.clear();
    o->stage = 3;
  }
  queue_->ops.clear();
}

comm::Request HierCommunicator::iall_reduce(const void* send, void* recv, std::size_t count,
                                            comm::DType dtype, comm::ReduceOp op,
                                            std::string_view context) {
  if (count == 0) return {};
  const std::size_t es = comm::dtype_size(dtype);
  if (send != recv) std::memcpy(recv, send, count * es);
  auto o = std::make_shared<detail::HierOp>();
  o->recv = static_cast<std::byte*>(recv);
  o->count = count;
  o->piece = count / static_cast<std::size_t>(local_size_);
  o->main = o->piece * static_cast<std::size_t>(local_size_);
  o->dtype = dtype;
  o->op = op;
  o->context = std::string(context);
  queue_->start_stage(*o);
  queue_->ops.push_back(o);
  return comm::Request(std::make_unique<detail::HierRequest>(queue_, std::move(o)));
}

std::unique_ptr<HierCommunicator> make_dp_hier(comm::Communicator& dp, const Topology& topo,
                                               AllReduceMode mode) {
  const std::vector<int> nodes = topology_nodes_of(topo, dp);
  std::string why;
  const bool possible = hier_possible(nodes, &why);
  if (mode == AllReduceMode::kFlat || dp.size() == 1 ||
      (mode == AllReduceMode::kAuto && !hier_worthwhile(nodes))) {
    if (mode == AllReduceMode::kAuto && dp.size() > 1 && topo.nodes() > 1)
      log_info("dp all-reduce: flat (", possible ? "one dp rank per node or one node" : why, ")");
    return nullptr;
  }
  auto hier = std::make_unique<HierCommunicator>(dp, nodes);
  log_info("dp all-reduce: hierarchical, ", hier->nodes(), " nodes x ", hier->local_size(),
           " dp ranks per node (reduce-scatter in node, all-reduce across, all-gather in node)");
  return hier;
}

}  // namespace weft::parallel
