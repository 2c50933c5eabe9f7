// SFT packing. See sft_pack.hpp.
#include "data/sft_pack.hpp"

#include "core/error.hpp"

namespace weft::data {

PackedRows sft_pack(const std::vector<ChatTokens>& convs, int T, std::int32_t pad_id) {
  WEFT_CHECK(T >= 1, "T=", T);
  PackedRows p;
  p.T = T;
  int used = T;  // positions used in the current row; T forces a new row first
  // Pads what is left of the current row as one segment of its own.
  auto pad_rest = [&] {
    if (p.rows == 0) return;
    const std::size_t base = (p.rows - 1) * static_cast<std::size_t>(T);
    for (int t = used; t < T; ++t) {
      p.x[base + t] = pad_id;
      p.y[base + t] = pad_id;
      p.w[base + t] = 0.0f;
      p.doc_start[base + t] = used;
    }
  };
  auto new_row = [&] {
    pad_rest();
    ++p.rows;
    const std::size_t n = p.rows * static_cast<std::size_t>(T);
    p.x.resize(n);
    p.y.resize(n);
    p.w.resize(n);
    p.doc_start.resize(n);
    used = 0;
  };
  for (const ChatTokens& c : convs) {
    WEFT_CHECK(c.ids.size() == c.assistant_mask.size());
    if (c.ids.size() < 2) continue;
    int n = static_cast<int>(c.ids.size()) - 1;  // positions
    if (n > T) {
      n = T;
      ++p.truncated;
    }
    if (used + n > T) new_row();
    const std::size_t base = (p.rows - 1) * static_cast<std::size_t>(T);
    for (int i = 0; i < n; ++i) {
      const std::size_t at = base + static_cast<std::size_t>(used + i);
      p.x[at] = static_cast<std::int32_t>(c.ids[static_cast<std::size_t>(i)]);
      p.y[at] = static_cast<std::int32_t>(c.ids[static_cast<std::size_t>(i) + 1]);
      p.w[at] = c.assistant_mask[static_cast<std::size_t>(i) + 1] ? 1.0f : 0.0f;
      p.doc_start[at] = used;
      p.weight_sum += p.w[at];
    }
    used += n;
    ++p.conversations;
  }
  pad_rest();
  return p;
}

}  // namespace weft::data
