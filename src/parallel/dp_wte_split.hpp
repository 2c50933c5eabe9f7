// Early reduction of the tied token embedding's gradient (wte) under data parallelism.
// wte's gradient is final after the LM head's backward except in the rows of the
// tokens this step's micro-batch holds (the embedding backward at the very end adds
// only there). So DataParallel reduces the untouched rows while the blocks' backward
// runs and only the touched rows, packed, at the end. WteSplit is the bookkeeping:
// the union of touched rows over the dp ranks (every rank must split identically),
// the touched rows saved aside while the early reduction runs, and the packed late
// buffer. Owned by DataParallel; called on the thread that drives the model.
//
// Per synchronising backward:
//   begin(tokens)          start of backward: mark own rows, start the union (max)
//   wait_union, take_touched(g)   head's grads final: save the touched rows of g aside
//                          and zero them in g (the early reduction of the whole wte
//                          range then sums zeros there and the untouched rows' final values)
//   restore_touched(g)     early reduction done, before the embedding backward
//   pack(g) → buffer       after the embedding backward: touched rows, to all-reduce
//   unpack(g, lo, hi)      after that all-reduce: rows back into g ∩ [lo, hi)
// Each element's sum is the same rank-ordered sum of the same final values as one
// reduction of the whole wte range would compute: bitwise the same result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "parallel/comm/communicator.hpp"

namespace weft::parallel {

// Sorted distinct rows in [0, rows) marked in `map` (rows bytes, nonzero = touched).
std::vector<std::int32_t> wte_touched_rows(std::span<const std::uint8_t> map);

class WteSplit {
 public:
  // wte is rows × C floats at float offset `begin` of the flat gradient buffer.
  WteSplit(std::size_t begin, int rows, int C);

  std::size_t begin() const { return begin_; }
  std::size_t end() const { return begin_ + static_cast<std::size_t>(rows_) * C_; }
  bool active() const { return active_; }
  // The union of every dp rank's rows, valid after take_touched().
  const std::vector<std::int32_t>& rows() const { return touched_; }

  // Marks the rows of `tokens` (each must lie in [0, rows): a weft::Error otherwise)
  // and starts their union over `comm` (a collective: every member calls it).
  void begin(comm::Communicator& comm, std::span<const std::int32_t> tokens,
             std::string_view context);
  bool union_ready() { return union_.test(); }  // progress; true once complete
  void wait_union() { union_.wait(); }
  // After wait_union(): lists the touched rows, saves them aside and zeroes them in g.
  void take_touched(float* g);
  void restore_touched(float* g);
  // Copies the touched rows of g into the packed buffer: (rows().size(), C).
  std::span<float> pack(const float* g);
  // Writes the packed rows back into g, only the floats inside [lo, hi) (flat offsets).
  void unpack(float* g, std::size_t lo, std::size_t hi) const;
  void end() { active_ = false; }

 private:
  std::size_t begin_;
  int rows_, C_;
  bool active_ = false;
  std::vector<std::uint8_t> map_;        // (rows) 1 = some rank's tokens touch the row
  comm::Request union_;                  // max-reduction of map_ over the dp ranks
  std::vector<std::int32_t> touched_;    // sorted rows with map_ set
  std::vector<float> packed_;            // (touched_.size(), C): saved, then late rows
};

}  // namespace weft::parallel
