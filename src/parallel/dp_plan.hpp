// The data-parallel plan of a GPT flat buffer: gradient buckets (groups of units in
// backward order: head, layer L-1 .. 0, embedding), each a few contiguous ranges of
// the flat buffer, and which part of each range a DP rank owns under ZeRO. A value
// type built once at start; any thread may read it.
//
// Ownership (ZeRO-1/2/3): every range [begin, end) of n floats is cut into N equal
// pieces of c = n / N floats; rank r owns [begin + r·c, begin + (r+1)·c) (what a
// reduce-scatter of the range hands it); the last n - N·c < N floats (the tail) are
// reduced with an all-reduce and kept by every rank. A rank's shard is therefore the
// pieces of every range, packed in plan order into its optimizer state.
#pragma once

#include <cstddef>
#include <vector>

#include "model/param_layout.hpp"

namespace weft::parallel {

struct DpRange {
  std::size_t begin = 0, end = 0;  // in floats, within the flat buffer
  bool decay = false;              // AdamW weight decay (2-D weights)
  int tensor = 0;                  // model::ParamId of the one tensor it lies in
  std::size_t size() const { return end - begin; }
};

struct DpBucket {
  std::vector<int> units;       // model units in backward order; ready after the last
  std::vector<DpRange> ranges;  // contiguous flat ranges (one per tensor and layer group)
  std::size_t floats = 0;       // Σ range sizes
};

class DpPlan {
 public:
  // bucket_floats: a bucket closes once it holds at least this many floats;
  // one_unit_per_bucket (ZeRO-3) makes each unit its own bucket (gather granularity).
  DpPlan(const model::ParamLayout& layout, int n_layer, int dp_size, std::size_t bucket_floats,
         bool one_unit_per_bucket);

  int dp_size() const { return n_; }
  const std::vector<DpBucket>& buckets() const { return buckets_; }
  // Bucket holding `unit` (model::kUnitEmbedding = -1, layers 0..L-1, head = L).
  int bucket_of_unit(int unit) const { return unit_bucket_[static_cast<std::size_t>(unit + 1)]; }

  // Piece of `range` owned by `rank` (reduce-scatter part) and the replicated tail.
  std::size_t piece(const DpRange& r) const { return r.size() / static_cast<std::size_t>(n_); }
  std::size_t piece_begin(const DpRange& r, int rank) const {
    return r.begin + static_cast<std::size_t>(rank) * piece(r);
  }
  std::size_t tail_begin(const DpRange& r) const { return r.begin + piece(r) * n_; }
  // Floats a rank keeps in its shard: Σ over ranges of piece + tail.
  std::size_t shard_floats() const { return shard_floats_; }

 private:
  int n_;
  std::vector<DpBucket> buckets_;
  std::vector<int> unit_bucket_;  // (L + 2) indexed by unit + 1
  std::size_t shard_floats_ = 0;
};

}  // namespace weft::parallel
