// GPT-2's pre-tokenisation pattern as a hand-written matcher (no regex engine):
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// over code points decoded from UTF-8; an invalid byte counts as U+FFFD (other).
// Stateless and allocation-free: any thread may call it.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "data/tokenizer_unicode.hpp"

namespace weft::data {

// End offset (exclusive) of the pre-token that starts at `pos` (pos < text.size()).
std::size_t pretokenize_next(std::string_view text, std::size_t pos,
                             const unicode::ClassTable& classes);

// All pre-tokens of `text`, in order (for tests and training).
std::vector<std::string_view> pretokenize(std::string_view text);

// Calls fn(piece) for each pre-token of `text`.
template <typename Fn>
void pretokenize_each(std::string_view text, Fn&& fn) {
  const auto& classes = unicode::class_table();
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = pretokenize_next(text, pos, classes);
    fn(text.substr(pos, end - pos));
    pos = end;
  }
}

}  // namespace weft::data
