// Answer metrics of `weft eval` (docs/eval.md): text normalisation, exact match and
// token-F1 between a generated answer and the reference. Pure functions; any thread.
//
// Normalisation (SQuAD-like, but punctuation becomes a space so "1:3" stays two
// tokens "1 3"): ASCII letters lower-cased; every ASCII punctuation byte and every
// whitespace byte becomes a space; runs of spaces collapse to one; ends trimmed.
// Bytes >= 0x80 (UTF-8) are kept as they are.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace weft::infer {

std::string eval_normalize(std::string_view text);
// The normalised text split at spaces.
std::vector<std::string> eval_tokens(std::string_view text);
// 1 when the normalised texts are equal, else 0.
double eval_exact_match(std::string_view prediction, std::string_view reference);
// Harmonic mean of token precision and recall over the multiset of normalised tokens
// (common = Σ_t min(count_pred(t), count_ref(t))). Both empty → 1; one empty → 0.
double eval_token_f1(std::string_view prediction, std::string_view reference);

}  // namespace weft::infer
