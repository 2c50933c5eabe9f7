// Rejected answers of `weft data chat` preference pairs: besides the plausible wrong
// answer of a neighbouring item (hard: a small model cannot tell a verse from the next
// one), pairs get the failures a small chat model really makes — a looping answer, an
// answer in the wrong form — and a wrong answer from far away (another book, another
// part of WordNet). No "answer cut short" kind: it teaches the reward model that longer
// is better, and PPO then lengthens answers the model cannot get right (token-F1 falls).
// Pure functions of their inputs and the Rng; any thread.
#pragma once

#include <string>

#include "core/rng.hpp"

namespace weft::data {

// Kinds written as the pairs' "rejected_kind".
inline constexpr const char* kRejectedNeighbour = "neighbour";  // the next verse / gloss
inline constexpr const char* kRejectedOther = "other";          // from another book / far away
inline constexpr const char* kRejectedLoop = "loop";            // starts right, then repeats
inline constexpr const char* kRejectedWrongForm = "wrong_form";  // a verse for a reference, ...

// A looping answer, one time in three a stutter — the answer's first words, then the
// next word's first 2 bytes 12 times ("And the hahahahaha...") — else the answer's
// first words and then one window of 2–3 of its words repeated: "And the hand of the
// hand of the hand of the hand ..." (at least 6 words longer than the answer). Empty if
// the answer has fewer than 2 words.
std::string rejected_loop(const std::string& answer, Rng& rng);

struct RejectedChoice {
  std::string text;
  const char* kind = kRejectedNeighbour;
};

// Draws the rejected answer of one pair with equal odds among the kinds on offer:
// neighbour, other (a wrong answer from far away), loop, and wrong_form (the right item
// answered in the wrong form: the verse's reference where its text was asked, its text
// where the reference was asked). A kind whose text is empty or equals the answer is
// not on offer; nothing on offer gives an empty text.
RejectedChoice rejected_pick(const std::string& answer, const std::string& neighbour,
                             const std::string& other, const std::string& wrong_form, Rng& rng);

}  // namespace weft::data
