// Byte-counting wrapper of a Communicator. See counting_communicator.hpp.
#include "parallel/comm/counting_communicator.hpp"

namespace weft::comm {

CountingCommunicator::CountingCommunicator(std::unique_ptr<Communicator> inner)
    : Communicator(inner->options()), inner_(std::move(inner)) {}

CommBytes CountingCommunicator::take_bytes() {
  const CommBytes b = bytes_;
  bytes_ = {};
  return b;
}

void CountingCommunicator::add(std::uint64_t& counter, std::size_t count, DType dtype,
                               std::size_t times) {
  if (inner_->size() > 1) counter += static_cast<std::uint64_t>(count) * dtype_size(dtype) * times;
}

Request CountingCommunicator::iall_reduce(const void* send, void* recv, std::size_t count,
                                          DType dtype, ReduceOp op, std::string_view context) {
  add(bytes_.all_reduce, count, dtype);
  return inner_->iall_reduce(send, recv, count, dtype, op, context);
}

Request CountingCommunicator::ireduce_scatter(const void* send, void* recv, std::size_t count,
                                              DType dtype, ReduceOp op, std::string_view context) {
  add(bytes_.reduce_scatter, count, dtype, static_cast<std::size_t>(inner_->size()));
  return inner_->ireduce_scatter(send, recv, count, dtype, op, context);
}

Request CountingCommunicator::iall_gather(const void* send, void* recv, std::size_t count,
                                          DType dtype, std::string_view context) {
  add(bytes_.all_gather, count, dtype, static_cast<std::size_t>(inner_->size()));
  return inner_->iall_gather(send, recv, count, dtype, context);
}

Request CountingCommunicator::ibroadcast(void* data, std::size_t count, DType dtype, int root,
                                         std::string_view context) {
  add(bytes_.broadcast, count, dtype);
  return inner_->ibroadcast(data, count, dtype, root, context);
}

Request CountingCommunicator::isend(const void* data, std::size_t count, DType dtype, int dest,
                                    int tag, std::string_view context) {
  add(bytes_.sent, count, dtype);
  return inner_->isend(data, count, dtype, dest, tag, context);
}

Request CountingCommunicator::irecv(void* data, std::size_t count, DType dtype, int source,
                                    int tag, std::string_view context) {
  add(bytes_.received, count, dtype);
  return inner_->irecv(data, count, dtype, source, tag, context);
}

std::unique_ptr<Communicator> CountingCommunicator::split(int color, int key,
                                                          std::string_view context) {
  std::unique_ptr<Communicator> part = inner_->split(color, key, context);
  if (!part) return nullptr;
  return std::make_unique<CountingCommunicator>(std::move(part));
}

}  // namespace weft::comm
