// Rejected answers of preference pairs (see chat_rejected.hpp).
#include "data/chat_rejected.hpp"

#include <vector>

namespace weft::data {
namespace {

std::vector<std::string> words_of(const std::string& s) {
  std::vector<std::string> w;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    std::size_t j = s.find(' ', i);
    if (j == std::string::npos) j = s.size();
    if (j > i) w.push_back(s.substr(i, j - i));
    i = j;
  }
  return w;
}

std::string join(const std::vector<std::string>& w) {
  std::string out;
  for (const std::string& x : w) {
    if (!out.empty()) out += ' ';
    out += x;
  }
  return out;
}

}  // namespace

std::string rejected_loop(const std::string& answer, Rng& rng) {
  const std::vector<std::string> w = words_of(answer);
  if (w.size() < 2) return {};
  const std::size_t at = rng.below(w.size());
  if (rng.below(3) == 0 && w[at].size() >= 2) {
    // A stutter: the first words, then the next word's first 2 bytes 12 times over
    // ("And the ththththth..."), as a tiny model's greedy answers do.
    std::vector<std::string> out(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(at));
    const std::string piece = w[at].substr(0, 2);
    std::string stutter;
    for (int i = 0; i < 12; ++i) stutter += piece;
    out.push_back(stutter);
    return join(out);
  }
  const std::size_t k = w.size() >= 3 ? 2 + rng.below(2) : 2;  // window of 2 or 3 words
  const std::size_t start = rng.below(w.size() - k + 1);
  std::vector<std::string> out(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(start + k));
  while (out.size() < w.size() + 6)
    for (std::size_t i = 0; i < k; ++i) out.push_back(w[start + i]);
  return join(out);
}

RejectedChoice rejected_pick(const std::string& answer, const std::string& neighbour,
                             const std::string& other, const std::string& wrong_form, Rng& rng) {
  std::vector<RejectedChoice> c;
  auto offer = [&](std::string text, const char* kind) {
    if (!text.empty() && text != answer) c.push_back({std::move(text), kind});
  };
  offer(neighbour, kRejectedNeighbour);
  offer(other, kRejectedOther);
  offer(rejected_loop(answer, rng), kRejectedLoop);
  offer(wrong_form, kRejectedWrongForm);
  if (c.empty()) return {};
  return c[rng.below(c.size())];
}

}  // namespace weft::data
