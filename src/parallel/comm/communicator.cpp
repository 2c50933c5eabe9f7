// Backend-independent pieces of the Communicator interface. See communicator.hpp.
#include "parallel/comm/communicator.hpp"

namespace weft::comm {

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return 4;
    case DType::kF64:
      return 8;
    case DType::kI64:
      return 8;
    case DType::kU8:
      return 1;
  }
  return 1;
}

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "f32";
    case DType::kF64:
      return "f64";
    case DType::kI64:
      return "i64";
    case DType::kU8:
      return "u8";
  }
  return "?";
}

std::string_view reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return "sum";
    case ReduceOp::kMax:
      return "max";
    case ReduceOp::kMin:
      return "min";
  }
  return "?";
}

void Communicator::check_scatter_sizes(std::size_t whole, std::size_t part,
                                       std::string_view what) const {
  WEFT_CHECK(whole == part * static_cast<std::size_t>(size()), "", what, ": buffer of ", whole,
             " elements must be ", size(), " x ", part);
}

void Communicator::check_peer(int peer, std::string_view what) const {
  WEFT_CHECK(peer >= 0 && peer < size(), "", what, ": rank ", peer, " is outside 0..", size() - 1);
}

std::string format_ranks(const Communicator& comm, std::span<const int> ranks) {
  std::string out = ranks.size() == 1 ? "rank " : "ranks ";
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(ranks[i]);
    const int world = comm.world_rank_of(ranks[i]);
    if (world != ranks[i]) out += str(" (world rank ", world, ")");
  }
  return out;
}

}  // namespace weft::comm
