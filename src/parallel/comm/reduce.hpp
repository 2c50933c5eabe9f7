// Elementwise reduction kernels used by the shared-memory backend (and by any
// backend that must finish a reduction on the host). Pure functions; any thread.
// Summation order is the caller's: the thread backend accumulates rank 0, 1, ...,
// N-1 in that order for every element, so its results are bitwise reproducible.
#pragma once

#include <cstddef>

#include "parallel/comm/communicator.hpp"

namespace weft::comm {

// acc[i] = op(acc[i], x[i]) for i < count. max/min propagate NaN from x.
void reduce_accumulate(DType dtype, ReduceOp op, void* acc, const void* x, std::size_t count);

}  // namespace weft::comm
