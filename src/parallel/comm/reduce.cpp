// Elementwise reduction kernels. See reduce.hpp.
#include "parallel/comm/reduce.hpp"

#include <cstdint>

namespace weft::comm {
namespace {

template <typename T>
void accumulate(ReduceOp op, T* __restrict acc, const T* __restrict x, std::size_t n) {
  switch (op) {
    case ReduceOp::kSum:
      for (std::size_t i = 0; i < n; ++i) acc[i] += x[i];
      return;
    case ReduceOp::kMax:
      // x != x: NaN in x wins, so a NaN anywhere reaches the result.
      for (std::size_t i = 0; i < n; ++i) acc[i] = (x[i] > acc[i] || x[i] != x[i]) ? x[i] : acc[i];
      return;
    case ReduceOp::kMin:
      for (std::size_t i = 0; i < n; ++i) acc[i] = (x[i] < acc[i] || x[i] != x[i]) ? x[i] : acc[i];
      return;
  }
}

}  // namespace

void reduce_accumulate(DType dtype, ReduceOp op, void* acc, const void* x, std::size_t count) {
  switch (dtype) {
    case DType::kF32:
      return accumulate(op, static_cast<float*>(acc), static_cast<const float*>(x), count);
    case DType::kF64:
      return accumulate(op, static_cast<double*>(acc), static_cast<const double*>(x), count);
    case DType::kI64:
      return accumulate(op, static_cast<std::int64_t*>(acc), static_cast<const std::int64_t*>(x),
                        count);
    case DType::kU8:
      return accumulate(op, static_cast<std::uint8_t*>(acc), static_cast<const std::uint8_t*>(x),
                        count);
  }
}

}  // namespace weft::comm
