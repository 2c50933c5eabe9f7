// Hierarchical all-reduce for data parallelism across nodes: a Communicator that
// wraps a flat one (e.g. the grid's dp axis) and runs all_reduce in three steps —
// reduce-scatter inside each node, all-reduce of each rank's piece across nodes
// (between the ranks with the same local index), all-gather inside the node — so
// only 1/L of the buffer (L = members per node) crosses the network per rank.
// Every other operation, and split(), goes to the flat communicator unchanged.
//
// Owns its node and cross communicators (split from the flat one at construction,
// collectively); the flat communicator stays the caller's and must outlive this.
// Like any Communicator: one thread at a time; Requests complete in start order.
// Several all-reduces in flight pipeline: each step has its own communicator (the
// node's ranks twice, for steps 1 and 3, and the cross-node group), and a step of a
// later all-reduce never starts before the same step of an earlier one, so every
// communicator sees its operations in the same order on every rank whatever the
// timing. Each step has the communicator's timeout, so one all_reduce may take up
// to 3 × timeout to fail.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "parallel/comm/communicator.hpp"
#include "parallel/topology.hpp"

namespace weft::parallel {

enum class AllReduceMode { kFlat, kHier, kAuto };
// "flat" | "hier" | "auto"; anything else is an input error naming --allreduce.
AllReduceMode parse_allreduce_mode(std::string_view text);

// Whether members grouped by `node_of_member` (node index per member) can go
// hierarchical: every node holds the same number L of members. `why` gets the
// reason when not.
bool hier_possible(std::span<const int> node_of_member, std::string* why = nullptr);
// auto's choice: hierarchical when possible, nodes > 1 and L > 1 (with one member
// per node, or one node, it is the flat all-reduce plus overhead).
bool hier_worthwhile(std::span<const int> node_of_member);

namespace detail {
struct HierQueue;
}

class HierCommunicator final : public comm::Communicator {
 public:
  // Collective over `flat`. node_of_member: (flat.size()) node index per member,
  // the same on every member; throws a config error naming the misfit unless
  // hier_possible(). Members of a node are ranked by their flat rank.
  HierCommunicator(comm::Communicator& flat, std::span<const int> node_of_member);
  ~HierCommunicator() override;

  int nodes() const { return nodes_; }
  int local_size() const { return local_size_; }
  int local_rank() const { return local_rank_; }
  comm::Communicator& flat() { return flat_; }
  comm::Communicator& node_comm() { return *node_; }
  comm::Communicator& cross_comm() { return *cross_; }

  int rank() const override { return flat_.rank(); }
  int size() const override { return flat_.size(); }
  int world_rank_of(int r) const override { return flat_.world_rank_of(r); }
  std::string_view backend() const override { return flat_.backend(); }

  // The typed forms of the base stay visible beside the overrides below.
  using comm::Communicator::iall_gather;
  using comm::Communicator::iall_reduce;
  using comm::Communicator::ibroadcast;
  using comm::Communicator::ireduce_scatter;
  using comm::Communicator::irecv;
  using comm::Communicator::isend;

  // The hierarchical one. recv may equal send (in place).
  comm::Request iall_reduce(const void* send, void* recv, std::size_t count, comm::DType dtype,
                            comm::ReduceOp op, std::string_view context) override;
  // The rest: the flat communicator's.
  comm::Request ireduce_scatter(const void* send, void* recv, std::size_t count,
                                comm::DType dtype, comm::ReduceOp op,
                                std::string_view context) override {
    return flat_.ireduce_scatter(send, recv, count, dtype, op, context);
  }
  comm::Request iall_gather(const void* send, void* recv, std::size_t count, comm::DType dtype,
                            std::string_view context) override {
    return flat_.iall_gather(send, recv, count, dtype, context);
  }
  comm::Request ibroadcast(void* data, std::size_t count, comm::DType dtype, int root,
                           std::string_view context) override {
    return flat_.ibroadcast(data, count, dtype, root, context);
  }
  comm::Request isend(const void* data, std::size_t count, comm::DType dtype, int dest, int tag,
                      std::string_view context) override {
    return flat_.isend(data, count, dtype, dest, tag, context);
  }
  comm::Request irecv(void* data, std::size_t count, comm::DType dtype, int source, int tag,
                      std::string_view context) override {
    return flat_.irecv(data, count, dtype, source, tag, context);
  }
  comm::Request ibarrier(std::string_view context) override { return flat_.ibarrier(context); }
  std::unique_ptr<comm::Communicator> split(int color, int key,
                                            std::string_view context = {}) override {
    return flat_.split(color, key, context);
  }

 private:
  comm::Communicator& flat_;
  std::unique_ptr<comm::Communicator> node_, cross_, gather_;  // steps 1, 2, 3
  int nodes_ = 1, local_size_ = 1, local_rank_ = 0;
  std::shared_ptr<detail::HierQueue> queue_;
};

// The data-parallel all-reduce for `dp` (a communicator split from the world that
// `topo` was discovered on): a HierCommunicator for kHier (config error when the
// nodes hold different numbers of dp ranks) and for kAuto when hier_worthwhile;
// nullptr means flat. Collective over `dp`; logs the choice on world rank 0.
std::unique_ptr<HierCommunicator> make_dp_hier(comm::Communicator& dp, const Topology& topo,
                                               AllReduceMode mode);

}  // namespace weft::parallel
