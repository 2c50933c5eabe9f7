// Touched-row bookkeeping of wte's early gradient reduction. See dp_wte_split.hpp.
#include "parallel/dp_wte_split.hpp"

#include <algorithm>
#include <cstring>

#include "core/error.hpp"

namespace weft::parallel {

std::vector<std::int32_t> wte_touched_rows(std::span<const std::uint8_t> map) {
  std::vector<std::int32_t> rows;
  for (std::size_t i = 0; i < map.size(); ++i)
    if (map[i] != 0) rows.push_back(static_cast<std::int32_t>(i));
  return rows;
}

WteSplit::WteSplit(std::size_t begin, int rows, int C)
    : begin_(begin), rows_(rows), C_(C), map_(static_cast<std::size_t>(rows)) {
  WEFT_CHECK(rows > 0 && C > 0);
}

void WteSplit::begin(comm::Communicator& comm, std::span<const std::int32_t> tokens,
                     std::string_view context) {
  WEFT_CHECK(!active_, "WteSplit::begin twice in one step");
  std::fill(map_.begin(), map_.end(), std::uint8_t{0});
  for (std::int32_t t : tokens) {
    if (t < 0 || t >= rows_)
      throw input_error(str("token id ", t, " outside the embedding's ", rows_, " rows"));
    map_[static_cast<std::size_t>(t)] = 1;
  }
  union_ = comm.iall_reduce(map_.data(), map_.data(), map_.size(), comm::DType::kU8,
                            comm::ReduceOp::kMax, context);
  active_ = true;
}

void WteSplit::take_touched(float* g) {
  WEFT_CHECK(union_.done(), "take_touched before the union completed");
  touched_ = wte_touched_rows(map_);
  const auto C = static_cast<std::size_t>(C_);
  packed_.resize(touched_.size() * C);
  for (std::size_t i = 0; i < touched_.size(); ++i) {
    float* row = g + begin_ + static_cast<std::size_t>(touched_[i]) * C;
    std::memcpy(packed_.data() + i * C, row, C * sizeof(float));
    std::memset(row, 0, C * sizeof(float));
  }
}

void WteSplit::restore_touched(float* g) {
  const auto C = static_cast<std::size_t>(C_);
  for (std::size_t i = 0; i < touched_.size(); ++i)
    std::memcpy(g + begin_ + static_cast<std::size_t>(touched_[i]) * C, packed_.data() + i * C,
                C * sizeof(float));
}

std::span<float> WteSplit::pack(const float* g) {
  const auto C = static_cast<std::size_t>(C_);
  for (std::size_t i = 0; i < touched_.size(); ++i)
    std::memcpy(packed_.data() + i * C, g + begin_ + static_cast<std::size_t>(touched_[i]) * C,
                C * sizeof(float));
  return packed_;
}

void WteSplit::unpack(float* g, std::size_t lo, std::size_t hi) const {
  const auto C = static_cast<std::size_t>(C_);
  for (std::size_t i = 0; i < touched_.size(); ++i) {
    const std::size_t a = begin_ + static_cast<std::size_t>(touched_[i]) * C;
    const std::size_t from = std::max(a, lo), to = std::min(a + C, hi);
    if (from < to)
      std::memcpy(g + from, packed_.data() + i * C + (from - a), (to - from) * sizeof(float));
  }
}

}  // namespace weft::parallel
