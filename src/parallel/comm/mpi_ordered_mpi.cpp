// MPI backend: rank-ordered all-reduce and reduce-scatter from point-to-point
// messages, and the scratch pool they draw from. Rank r reduces block r: it
// receives block r of every peer into pooled scratch (phase 1, the same volume a
// ring reduce-scatter moves), sums the N blocks in rank order 0..N-1 (bitwise what
// the thread backend and a single rank's accumulation compute), and for an
// all-reduce sends its block to every peer and receives theirs (phase 2).
// Owned by the MpiRequest that drives it; used by the communicator's thread.
#include <algorithm>
#include <cstring>

#include "core/error.hpp"
#include "parallel/comm/mpi_detail.hpp"
#include "parallel/comm/reduce.hpp"

namespace weft::comm::detail {

std::unique_ptr<AlignedBuffer<std::byte>> ScratchPool::acquire(std::size_t bytes) {
  // Smallest free buffer that fits; else a new one (kept for reuse once released).
  auto best = free_.end();
  for (auto it = free_.begin(); it != free_.end(); ++it)
    if ((*it)->bytes() >= bytes && (best == free_.end() || (*it)->bytes() < (*best)->bytes()))
      best = it;
  if (best == free_.end()) return std::make_unique<AlignedBuffer<std::byte>>(bytes, false);
  auto out = std::move(*best);
  free_.erase(best);
  return out;
}

void ScratchPool::release(std::unique_ptr<AlignedBuffer<std::byte>> buf) {
  if (buf) free_.push_back(std::move(buf));
}

namespace {

class OrderedReduce final : public MpiPhases {
 public:
  OrderedReduce(MpiCommunicator& c, const void* send, void* recv, std::size_t count, DType dtype,
                ReduceOp op, bool reduce_scatter, int tag)
      : c_(c),
        send_(static_cast<const std::byte*>(send)),
        recv_(static_cast<std::byte*>(recv)),
        dtype_(dtype),
        op_(op),
        rs_(reduce_scatter),
        tag_(tag),
        n_(static_cast<std::size_t>(c.size())),
        r_(static_cast<std::size_t>(c.rank())),
        es_(dtype_size(dtype)),
        total_(reduce_scatter ? count * n_ : count) {}

  ~OrderedReduce() override {
    if (scratch_) c_.scratch().release(std::move(scratch_));
  }

  void leak_buffers() override { (void)scratch_.release(); }

  bool next(std::vector<MPI_Request>& reqs) override {
    switch (phase_++) {
      case 0:
        if (n_ == 1) {
          copy_own_only();
          return false;
        }
        post_exchange(reqs);
        return true;
      case 1:
        reduce_own();
        if (rs_) return false;
        post_gather(reqs);
        return true;
      default:
        return false;
    }
  }

 private:
  // Block p of the buffer: [off(p), off(p + 1)) elements.
  std::size_t off(std::size_t p) const { return rs_ ? p * (total_ / n_) : p * total_ / n_; }
  std::size_t blk(std::size_t p) const { return off(p + 1) - off(p); }
  // Where this rank's reduced block goes.
  std::byte* out() const { return rs_ ? recv_ : recv_ + off(r_) * es_; }

  void copy_own_only() {
    if (out() != send_ + off(r_) * es_) std::memmove(out(), send_ + off(r_) * es_, blk(r_) * es_);
  }

  void post(std::vector<MPI_Request>& reqs, bool is_send, void* buf, std::size_t count,
            std::size_t peer, int tag) {
    if (count == 0) return;
    MPI_Request req = MPI_REQUEST_NULL;
    const int n = static_cast<int>(count);
    const int p = static_cast<int>(peer);
    if (is_send)
      mpi_check(MPI_Isend(buf, n, mpi_type(dtype_), p, tag, c_.reduce_comm(), &req), "MPI_Isend",
                "ordered reduction");
    else
      mpi_check(MPI_Irecv(buf, n, mpi_type(dtype_), p, tag, c_.reduce_comm(), &req), "MPI_Irecv",
                "ordered reduction");
    reqs.push_back(req);
  }

  // Phase 1: scratch slot q receives peer p's block r (q = p, or p - 1 past this
  // rank: N - 1 slots of blk(r) elements). The own block stays where it is.
  std::size_t slot(std::size_t p) const { return p < r_ ? p : p - 1; }

  void post_exchange(std::vector<MPI_Request>& reqs) {
    const std::size_t mine = blk(r_) * es_;
    scratch_ = c_.scratch().acquire(std::max<std::size_t>(mine * (n_ - 1), 1));
    std::byte* s = scratch_->data();
    for (std::size_t k = 1; k < n_; ++k) {  // peers in ring order spread the load
      const std::size_t to = (r_ + k) % n_, from = (r_ + n_ - k) % n_;
      post(reqs, false, s + slot(from) * mine, blk(r_), from, tag_);
      post(reqs, true, const_cast<std::byte*>(send_ + off(to) * es_), blk(to), to, tag_);
    }
  }

  // out = block_0 op block_1 op ... op block_{N-1}, left to right (rank order),
  // where block r is the own input. Done in cache-sized chunks through a small
  // accumulator: each chunk of the own block is read before that chunk of `out` is
  // written, so an in-place output is safe without copying the whole own block
  // aside first (that copy was one more pass over half of every bucket).
  void reduce_own() {
    const std::size_t count = blk(r_);
    if (count == 0) return;
    constexpr std::size_t kChunkBytes = 16 * 1024;
    thread_local AlignedBuffer<std::byte> acc_buf(kChunkBytes, false);
    const std::size_t chunk = kChunkBytes / es_;
    const std::byte* own = send_ + off(r_) * es_;
    // Chunked read-before-write is safe for out == own or disjoint ranges only.
    WEFT_CHECK(out() == own || out() + count * es_ <= own || own + count * es_ <= out(),
               "ordered reduction: output partly overlaps this rank's input block");
    const std::byte* s = scratch_->data();
    const std::size_t mine = count * es_;
    auto src = [&](std::size_t p, std::size_t at) {
      return p == r_ ? own + at * es_ : s + slot(p) * mine + at * es_;
    };
    std::byte* acc = acc_buf.data();
    for (std::size_t at = 0; at < count; at += chunk) {
      const std::size_t n = std::min(chunk, count - at);
      std::memcpy(acc, src(0, at), n * es_);
      for (std::size_t p = 1; p < n_; ++p) reduce_accumulate(dtype_, op_, acc, src(p, at), n);
      std::memcpy(out() + at * es_, acc, n * es_);
    }
  }

  // Phase 2 (all-reduce): the reduced block to every peer, theirs into place.
  void post_gather(std::vector<MPI_Request>& reqs) {
    for (std::size_t k = 1; k < n_; ++k) {
      const std::size_t to = (r_ + k) % n_, from = (r_ + n_ - k) % n_;
      post(reqs, false, recv_ + off(from) * es_, blk(from), from, tag_ + 1);
      post(reqs, true, out(), blk(r_), to, tag_ + 1);
    }
  }

  MpiCommunicator& c_;  // outlives the operation (request contract)
  const std::byte* send_;
  std::byte* recv_;
  DType dtype_;
  ReduceOp op_;
  bool rs_;
  int tag_;
  std::size_t n_, r_, es_;
  std::size_t total_;  // elements in the full (send) buffer
  int phase_ = 0;
  std::unique_ptr<AlignedBuffer<std::byte>> scratch_;  // (N - 1, blk(r)) elements
};

}  // namespace

std::unique_ptr<MpiPhases> ordered_reduce(MpiCommunicator& c, const void* send, void* recv,
                                          std::size_t count, DType dtype, ReduceOp op,
                                          bool reduce_scatter, int tag) {
  return std::make_unique<OrderedReduce>(c, send, recv, count, dtype, op, reduce_scatter, tag);
}

}  // namespace weft::comm::detail
