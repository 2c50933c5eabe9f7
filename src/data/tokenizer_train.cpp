// BPE training (`weft tokenizer train`): counts pre-tokens in parallel (OpenMP, one
// hash map per thread, summed), then learns merges with incremental pair counts and a
// lazy max-heap. Deterministic for any thread count. Returns a new Tokenizer owned by
// the caller; call from one thread (it starts its own OpenMP team).
#include <omp.h>

#include <algorithm>
#include <queue>
#include <unordered_map>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "data/tokenizer.hpp"
#include "data/tokenizer_pretokenize.hpp"

namespace weft::data {
namespace {

// Parts of every text, cut where pre-tokens always start, so counting parts on
// different threads equals counting the whole texts.
std::vector<std::string_view> make_chunks(std::span<const std::string_view> texts,
                                          std::size_t target) {
  std::vector<std::string_view> chunks;
  for (std::string_view text : texts)
    for (std::string_view part : tokenizer_split_text(text, target)) chunks.push_back(part);
  return chunks;
}

using PieceCounts = std::unordered_map<std::string_view, uint64_t>;

PieceCounts count_pieces(std::span<const std::string_view> texts, int threads) {
  const std::vector<std::string_view> chunks = make_chunks(texts, std::size_t{1} << 20);
  const int n_threads = threads > 0 ? threads : omp_get_max_threads();
  std::vector<PieceCounts> partial(static_cast<std::size_t>(n_threads));
#pragma omp parallel for schedule(dynamic, 1) num_threads(n_threads)
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    PieceCounts& mine = partial[static_cast<std::size_t>(omp_get_thread_num())];
    pretokenize_each(chunks[c], [&](std::string_view piece) { ++mine[piece]; });
  }
  PieceCounts total = std::move(partial[0]);
  for (std::size_t i = 1; i < partial.size(); ++i)
    for (const auto& [piece, n] : partial[i]) total[piece] += n;
  return total;
}

struct Word {
  std::vector<uint32_t> syms;  // current token ids of this pre-token
  int64_t count;               // occurrences in the corpus
};

inline uint64_t pair_key(uint32_t a, uint32_t b) {
  return (uint64_t{a} << 32) | b;
}

struct HeapEntry {
  int64_t count;
  uint64_t pair;
  // Max-heap on count; on equal counts the smaller (left id, right id) wins.
  bool operator<(const HeapEntry& o) const {
    return count != o.count ? count < o.count : pair > o.pair;
  }
};

class Trainer {
 public:
  explicit Trainer(std::vector<Word> words) : words_(std::move(words)), seen_(words_.size(), 0) {
    for (int b = 0; b < 256; ++b) {
      tokens_.emplace_back(1, static_cast<char>(b));
      token_ids_.emplace(tokens_.back(), static_cast<uint32_t>(b));
    }
    for (uint32_t w = 0; w < words_.size(); ++w) add_pairs(w, nullptr);
    for (const auto& [pair, n] : pair_count_)
      if (n > 0) heap_.push({n, pair});
  }

  // Performs one merge; false when no pair occurs any more.
  bool merge_once() {
    while (!heap_.empty()) {
      const HeapEntry top = heap_.top();
      heap_.pop();
      const int64_t actual = pair_count_[top.pair];
      if (actual != top.count) {  // stale: counts only fall for pairs without the new token
        if (actual > 0) heap_.push({actual, top.pair});
        continue;
      }
      if (actual <= 0) continue;
      apply(top.pair);
      return true;
    }
    return false;
  }

  std::size_t n_tokens() const { return tokens_.size(); }
  std::vector<std::string> take_tokens() { return std::move(tokens_); }

 private:
  // Adds (sign +1) or removes (-1) the pair counts of word w; when `touched` is given,
  // records pairs containing `fresh_` and lists w under them.
  void add_pairs(uint32_t w, std::vector<uint64_t>* touched, int sign = 1) {
    const Word& word = words_[w];
    for (std::size_t i = 0; i + 1 < word.syms.size(); ++i) {
      const uint64_t p = pair_key(word.syms[i], word.syms[i + 1]);
      pair_count_[p] += sign * word.count;
      if (sign < 0) continue;
      if (touched && word.syms[i] != fresh_ && word.syms[i + 1] != fresh_) continue;
      auto& list = pair_words_[p];
      if (list.empty() || list.back() != w) list.push_back(w);
      if (touched) touched->push_back(p);
    }
  }

  void apply(uint64_t pair) {
    const uint32_t a = static_cast<uint32_t>(pair >> 32), b = static_cast<uint32_t>(pair);
    std::string bytes = tokens_[a] + tokens_[b];
    // Two different pairs can spell the same bytes ("a"+"bc", "ab"+"c"): reuse the token.
    auto [it, inserted] = token_ids_.emplace(bytes, static_cast<uint32_t>(tokens_.size()));
    if (inserted) tokens_.push_back(std::move(bytes));
    fresh_ = it->second;
    ++step_;

    std::vector<uint32_t> affected = std::move(pair_words_[pair]);
    pair_words_.erase(pair);
    std::vector<uint64_t> touched;
    for (uint32_t w : affected) {
      if (seen_[w] == step_) continue;
      seen_[w] = step_;
      std::vector<uint32_t>& syms = words_[w].syms;
      bool has = false;
      for (std::size_t i = 0; i + 1 < syms.size() && !has; ++i)
        has = syms[i] == a && syms[i + 1] == b;
      if (!has) continue;  // stale entry: an earlier merge consumed the pair here
      add_pairs(w, nullptr, -1);
      std::size_t out = 0;
      for (std::size_t i = 0; i < syms.size(); ++i) {
        if (i + 1 < syms.size() && syms[i] == a && syms[i + 1] == b) {
          syms[out++] = fresh_;
          ++i;
        } else {
          syms[out++] = syms[i];
        }
      }
      syms.resize(out);
      add_pairs(w, &touched);
    }
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (uint64_t p : touched)
      if (const int64_t n = pair_count_[p]; n > 0) heap_.push({n, p});
  }

  std::vector<Word> words_;
  std::vector<uint64_t> seen_;  // (n_words,) last merge step that visited the word
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, uint32_t> token_ids_;
  std::unordered_map<uint64_t, int64_t> pair_count_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> pair_words_;  // may hold stale words
  std::priority_queue<HeapEntry> heap_;
  uint32_t fresh_ = 0;
  uint64_t step_ = 0;
};

}  // namespace

Tokenizer tokenizer_train(std::span<const std::string_view> texts,
                          const TokenizerTrainOptions& options) {
  const uint32_t min_vocab = 256 + kNumSpecialTokens;
  if (options.vocab_size < min_vocab)
    throw input_error(str("--vocab-size ", options.vocab_size, " is too small: a byte-level BPE ",
                          "needs at least ", min_vocab, " (256 bytes + ", kNumSpecialTokens,
                          " special tokens)"));
  const PieceCounts counts = count_pieces(texts, options.threads);
  // Sorted pieces give word ids independent of hash-map order and thread count.
  std::vector<std::pair<std::string_view, uint64_t>> pieces(counts.begin(), counts.end());
  std::sort(pieces.begin(), pieces.end());
  std::vector<Word> words;
  words.reserve(pieces.size());
  for (const auto& [piece, n] : pieces) {
    Word w{{}, static_cast<int64_t>(n)};
    for (unsigned char c : piece) w.syms.push_back(c);
    words.push_back(std::move(w));
  }
  Trainer trainer(std::move(words));
  const std::size_t want = options.vocab_size - kNumSpecialTokens;
  ProgressBar bar("merges", want - 256, ProgressUnit::kItems, !options.progress);
  while (trainer.n_tokens() < want) {
    if (!trainer.merge_once()) {
      log_warn("tokenizer train: the corpus ran out of pairs after ", trainer.n_tokens(),
               " tokens; vocabulary is smaller than --vocab-size ", options.vocab_size);
      break;
    }
    bar.set(trainer.n_tokens() - 256);
  }
  bar.finish();
  return Tokenizer::from_ranks(trainer.take_tokens());
}

}  // namespace weft::data
