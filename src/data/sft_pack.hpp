// Packing of rendered conversations into fixed-length training rows for SFT: each
// conversation of n tokens gives n − 1 next-token positions (loss weight 1 where the
// target is an assistant token), laid one after another in rows of T positions;
// a conversation that does not fit in what is left of a row starts the next row, and
// the rest of a row is padding (weight 0). doc_start marks where each conversation
// (or the padding) starts, for GptModel::set_doc_starts. Pure; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "data/chat_template.hpp"

namespace weft::data {

struct PackedRows {
  int T = 0;
  std::size_t rows = 0;
  std::vector<std::int32_t> x, y;       // (rows, T) inputs and targets
  std::vector<float> w;                 // (rows, T) 1 on assistant targets, else 0
  std::vector<std::int32_t> doc_start;  // (rows, T)
  std::size_t conversations = 0;        // packed (those with at least 2 tokens)
  std::size_t truncated = 0;            // longer than T + 1 tokens: cut to T + 1
  double weight_sum = 0.0;              // Σ w: assistant tokens trained on
};

// Packs `convs` in the given order. pad_id fills x and y of padding positions.
PackedRows sft_pack(const std::vector<ChatTokens>& convs, int T, std::int32_t pad_id);

}  // namespace weft::data
