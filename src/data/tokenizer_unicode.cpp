// Builds the two-stage code point → class table from the generated range lists.
// Built once (function-local static, thread-safe initialisation), then read-only.
#include "data/tokenizer_unicode.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace weft::data::unicode {
namespace {

struct OwnedClassTable {
  std::vector<uint16_t> stage1;  // (0x1100,)
  std::vector<uint8_t> stage2;   // (n_blocks * 256,)
  ClassTable view;
};

OwnedClassTable build_table() {
  std::vector<uint8_t> flat(kMaxCodePoint + 1, kOther);
  auto paint = [&](const CodePointRange* ranges, std::size_t n, CharClass cls) {
    for (std::size_t i = 0; i < n; ++i)
      std::fill(flat.begin() + ranges[i].first, flat.begin() + ranges[i].last + 1, cls);
  };
  paint(kLetterRanges, kLetterRanges_count, kLetter);
  paint(kNumberRanges, kNumberRanges_count, kNumber);
  paint(kSpaceRanges, kSpaceRanges_count, kSpace);

  OwnedClassTable t;
  t.stage1.resize((kMaxCodePoint + 1) >> 8);
  std::map<std::string, uint16_t> blocks;  // dedupes identical 256-entry blocks
  for (std::size_t b = 0; b < t.stage1.size(); ++b) {
    const std::string block(flat.begin() + b * 256, flat.begin() + (b + 1) * 256);
    auto [it, inserted] = blocks.emplace(block, static_cast<uint16_t>(blocks.size()));
    if (inserted) t.stage2.insert(t.stage2.end(), block.begin(), block.end());
    t.stage1[b] = it->second;
  }
  t.view = {t.stage1.data(), t.stage2.data()};
  return t;
}

bool in_ranges(const CodePointRange* ranges, std::size_t n, uint32_t cp) {
  const auto* end = ranges + n;
  const auto* it = std::upper_bound(
      ranges, end, cp, [](uint32_t v, const CodePointRange& r) { return v < r.first; });
  return it != ranges && cp <= (it - 1)->last;
}

}  // namespace

const ClassTable& class_table() {
  static const OwnedClassTable table = build_table();
  return table.view;
}

CharClass char_class_by_ranges(uint32_t cp) {
  if (in_ranges(kSpaceRanges, kSpaceRanges_count, cp)) return kSpace;
  if (in_ranges(kLetterRanges, kLetterRanges_count, cp)) return kLetter;
  if (in_ranges(kNumberRanges, kNumberRanges_count, cp)) return kNumber;
  return kOther;
}

}  // namespace weft::data::unicode
