// Thread backend: the data movement of each collective, chunk by chunk. A chunk is
// computed by one thread, which reads every member's input and writes every
// member's output for that range, reading all inputs before writing any output so
// in-place buffers are safe. Called from whichever rank thread makes progress.
#include <algorithm>
#include <cstring>
#include <vector>

#include "parallel/comm/reduce.hpp"
#include "parallel/comm/thread_state.hpp"

namespace weft::comm::detail {
namespace {

constexpr std::size_t kChunkBytes = 64 * 1024;

const std::byte* at(const void* p, std::size_t elem, std::size_t esize) {
  return static_cast<const std::byte*>(p) + elem * esize;
}
std::byte* at(void* p, std::size_t elem, std::size_t esize) {
  return static_cast<std::byte*>(p) + elem * esize;
}

// Reduces elements [first, first+n) of every member's `send` in rank order into
// scratch: scratch = send[0]; scratch op= send[1]; ...
void reduce_range(const CollOp& op, std::size_t first, std::size_t n, std::byte* scratch) {
  const std::size_t es = dtype_size(op.dtype);
  std::memcpy(scratch, at(op.send[0], first, es), n * es);
  for (std::size_t r = 1; r < op.send.size(); ++r)
    reduce_accumulate(op.dtype, op.op, scratch, at(op.send[r], first, es), n);
}

void copy_if_distinct(void* dst, const void* src, std::size_t bytes) {
  if (dst != src && bytes > 0) std::memcpy(dst, src, bytes);
}

void run_chunk(const CollOp& op, std::size_t chunk) {
  thread_local std::vector<std::byte> scratch(kChunkBytes);
  const std::size_t es = dtype_size(op.dtype);
  const std::size_t members = op.send.size();
  switch (op.kind) {
    case CollKind::kAllReduce: {
      const std::size_t first = chunk * op.chunk_elems;
      const std::size_t n = std::min(op.chunk_elems, op.count - first);
      reduce_range(op, first, n, scratch.data());
      for (std::size_t r = 0; r < members; ++r)
        std::memcpy(at(op.recv[r], first, es), scratch.data(), n * es);
      return;
    }
    case CollKind::kReduceScatter: {
      // Part p of the reduction (elements [p*count, (p+1)*count)) goes to member p.
      const std::size_t part = chunk / op.chunks_per_part;
      const std::size_t local = (chunk % op.chunks_per_part) * op.chunk_elems;
      const std::size_t n = std::min(op.chunk_elems, op.count - local);
      reduce_range(op, part * op.count + local, n, scratch.data());
      std::memcpy(at(op.recv[part], local, es), scratch.data(), n * es);
      return;
    }
    case CollKind::kAllGather: {
      // Member p's send goes to [p*count, (p+1)*count) of every member's recv.
      const std::size_t part = chunk / op.chunks_per_part;
      const std::size_t local = (chunk % op.chunks_per_part) * op.chunk_elems;
      const std::size_t n = std::min(op.chunk_elems, op.count - local);
      const void* src = at(op.send[part], local, es);
      for (std::size_t r = 0; r < members; ++r)
        copy_if_distinct(at(op.recv[r], part * op.count + local, es), src, n * es);
      return;
    }
    case CollKind::kBroadcast: {
      const std::size_t first = chunk * op.chunk_elems;
      const std::size_t n = std::min(op.chunk_elems, op.count - first);
      const void* src = at(op.recv[static_cast<std::size_t>(op.root)], first, es);
      for (std::size_t r = 0; r < members; ++r)
        copy_if_distinct(at(op.recv[r], first, es), src, n * es);
      return;
    }
    case CollKind::kBarrier:
      return;
  }
}

}  // namespace

std::string_view coll_kind_name(CollKind kind) {
  switch (kind) {
    case CollKind::kAllReduce:
      return "all_reduce";
    case CollKind::kReduceScatter:
      return "reduce_scatter";
    case CollKind::kAllGather:
      return "all_gather";
    case CollKind::kBroadcast:
      return "broadcast";
    case CollKind::kBarrier:
      return "barrier";
  }
  return "?";
}

void coll_plan_chunks(CollOp& op, int members) {
  op.chunk_elems = kChunkBytes / dtype_size(op.dtype);
  const std::size_t per = (op.count + op.chunk_elems - 1) / op.chunk_elems;
  switch (op.kind) {
    case CollKind::kAllReduce:
    case CollKind::kBroadcast:
      op.n_chunks = per;
      break;
    case CollKind::kReduceScatter:
    case CollKind::kAllGather:
      op.chunks_per_part = per;
      op.n_chunks = per * static_cast<std::size_t>(members);
      break;
    case CollKind::kBarrier:
      op.n_chunks = 0;
      break;
  }
}

void coll_work(ThreadWorldState& world, CollOp& op, std::size_t max_chunks) {
  {
    std::lock_guard lock(world.mu);
    // Registering under mu pairs with abandon(): once the world is failed, nobody
    // starts writing into buffers whose owner may be unwinding.
    if (world.failed.load() || op.next_chunk.load() >= op.n_chunks) return;
    ++op.active;
  }
  std::size_t mine = 0;
  while (mine < max_chunks && !world.failed.load(std::memory_order_relaxed)) {
    const std::size_t chunk = op.next_chunk.fetch_add(1);
    if (chunk >= op.n_chunks) break;
    run_chunk(op, chunk);
    ++mine;
  }
  {
    std::lock_guard lock(world.mu);
    --op.active;
    op.done_chunks += mine;
    if (op.done_chunks == op.n_chunks) op.complete = true;
  }
  world.cv.notify_all();
}

}  // namespace weft::comm::detail
