// CountingCommunicator: a Communicator that forwards every operation to the one it
// wraps and counts the payload bytes it was handed, per kind of operation. The
// grid wraps its axis communicators in one, so `weft train` can report what each
// axis moved per step (docs/parallel.md "Communication volume") independently of
// any formula. Owns the wrapped communicator; used by one thread, like any other.
#pragma once

#include <cstdint>
#include <memory>

#include "parallel/comm/communicator.hpp"

namespace weft::comm {

// Payload bytes as the caller passes them (not what an algorithm puts on the wire):
// all_reduce and broadcast count the buffer, reduce_scatter its input (size()·count),
// all_gather its output (size()·count); point-to-point counts sent and received
// apart. A ring all-reduce moves 2·(N−1)/N of its payload per rank, reduce-scatter
// and all-gather (N−1)/N.
struct CommBytes {
  std::uint64_t all_reduce = 0, reduce_scatter = 0, all_gather = 0, broadcast = 0;
  std::uint64_t sent = 0, received = 0;
  std::uint64_t total() const {
    return all_reduce + reduce_scatter + all_gather + broadcast + sent + received;
  }
};

class CountingCommunicator final : public Communicator {
 public:
  // Counts only when the communicator has more than one member (a size-1 axis
  // moves nothing, though the code path still calls it).
  explicit CountingCommunicator(std::unique_ptr<Communicator> inner);

  const CommBytes& bytes() const { return bytes_; }
  CommBytes take_bytes();  // the counts so far, then zero
  Communicator& inner() { return *inner_; }

  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  int world_rank_of(int r) const override { return inner_->world_rank_of(r); }
  std::string_view backend() const override { return inner_->backend(); }

  Request iall_reduce(const void* send, void* recv, std::size_t count, DType dtype, ReduceOp op,
                      std::string_view context) override;
  Request ireduce_scatter(const void* send, void* recv, std::size_t count, DType dtype,
                          ReduceOp op, std::string_view context) override;
  Request iall_gather(const void* send, void* recv, std::size_t count, DType dtype,
                      std::string_view context) override;
  Request ibroadcast(void* data, std::size_t count, DType dtype, int root,
                     std::string_view context) override;
  Request isend(const void* data, std::size_t count, DType dtype, int dest, int tag,
                std::string_view context) override;
  Request irecv(void* data, std::size_t count, DType dtype, int source, int tag,
                std::string_view context) override;
  Request ibarrier(std::string_view context) override { return inner_->ibarrier(context); }
  // The part is wrapped too (counted on its own).
  std::unique_ptr<Communicator> split(int color, int key, std::string_view context = {}) override;

  using Communicator::iall_reduce;
  using Communicator::ireduce_scatter;
  using Communicator::iall_gather;
  using Communicator::ibroadcast;
  using Communicator::isend;
  using Communicator::irecv;

 private:
  void add(std::uint64_t& counter, std::size_t count, DType dtype, std::size_t times = 1);

  std::unique_ptr<Communicator> inner_;
  CommBytes bytes_;
};

}  // namespace weft::comm
