// Exact match and token-F1 (see eval_metrics.hpp for the normalisation).
#include "infer/eval_metrics.hpp"

#include <map>

namespace weft::infer {
namespace {

bool is_ascii_punct_or_space(unsigned char c) {
  if (c >= 0x80) return false;
  const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  return !alnum;  // every other ASCII byte: punctuation, space, control
}

}  // namespace

std::string eval_normalize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_ascii_punct_or_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : ch);
  }
  return out;
}

std::vector<std::string> eval_tokens(std::string_view text) {
  const std::string norm = eval_normalize(text);
  std::vector<std::string> toks;
  std::size_t start = 0;
  while (start < norm.size()) {
    std::size_t end = norm.find(' ', start);
    if (end == std::string::npos) end = norm.size();
    toks.emplace_back(norm.substr(start, end - start));
    start = end + 1;
  }
  return toks;
}

double eval_exact_match(std::string_view prediction, std::string_view reference) {
  return eval_normalize(prediction) == eval_normalize(reference) ? 1.0 : 0.0;
}

double eval_token_f1(std::string_view prediction, std::string_view reference) {
  const std::vector<std::string> p = eval_tokens(prediction), r = eval_tokens(reference);
  if (p.empty() && r.empty()) return 1.0;
  if (p.empty() || r.empty()) return 0.0;
  std::map<std::string, int> ref_count;
  for (const std::string& t : r) ++ref_count[t];
  int common = 0;
  for (const std::string& t : p) {
    auto it = ref_count.find(t);
    if (it != ref_count.end() && it->second > 0) {
      --it->second;
      ++common;
    }
  }
  if (common == 0) return 0.0;
  const double precision = static_cast<double>(common) / static_cast<double>(p.size());
  const double recall = static_cast<double>(common) / static_cast<double>(r.size());
  return 2.0 * precision * recall / (precision + recall);
}

}  // namespace weft::infer
