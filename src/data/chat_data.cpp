// Example building for `weft data chat` (see chat_data.hpp): item selection, the
// train/test split, questions and plausible wrong answers.
#include "data/chat_data.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/chat_rejected.hpp"

namespace weft::data {

namespace {

// Short items keep the demo's sequences short (a laptop trains on them in minutes).
constexpr std::size_t kMaxVerseWords = 32;
constexpr std::size_t kMaxDefinitionWords = 24;
constexpr std::size_t kPhraseWords = 8;  // "Where does it say '...'?" quotes 8 words
constexpr std::size_t kMinFinishWords = 6;

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> w;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    const std::size_t j = std::min(s.find(' ', i), s.size());
    if (j > i) w.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return w;
}

std::string join_words(const std::vector<std::string>& w, std::size_t from, std::size_t to) {
  std::string out;
  for (std::size_t k = from; k < to; ++k) {
    if (k > from) out += ' ';
    out += w[k];
  }
  return out;
}

// Seeded Fisher-Yates over 0..n-1 (Rng is identical on every platform).
std::vector<std::size_t> shuffled_indices(std::size_t n, Rng& rng) {
  std::vector<std::size_t> idx(n);
  for (std::size_t i = 0; i < n; ++i) idx[i] = i;
  for (std::size_t i = n; i > 1; --i) std::swap(idx[i - 1], idx[rng.below(i)]);
  return idx;
}

// Index of the nearest neighbour of `i` (i+1, i-1, i+2, ...) accepted by `ok`; n if none.
template <class Ok>
std::size_t nearest(std::size_t i, std::size_t n, Ok ok) {
  for (std::size_t d = 1; d < n; ++d) {
    if (i + d < n && ok(i + d)) return i + d;
    if (i >= d && ok(i - d)) return i - d;
  }
  return n;
}

// A random index accepted by `ok` (up to 64 draws); n if none was found.
template <class Ok>
std::size_t random_other(std::size_t n, Rng& rng, Ok ok) {
  for (int tries = 0; tries < 64; ++tries) {
    const std::size_t j = rng.below(n);
    if (ok(j)) return j;
  }
  return n;
}

std::size_t test_count(std::size_t items, double f) {
  if (items == 0 || f <= 0) return 0;
  return std::min(items, static_cast<std::size_t>(std::ceil(f * static_cast<double>(items))));
}

void build_kjv(const std::vector<KjvVerse>& verses, const ChatDataBuildOptions& o,
               std::size_t budget, ChatDataSet& out) {
  const std::size_t n = verses.size();
  // Only verses whose text occurs once, so a test answer is never a train answer.
  std::unordered_map<std::string, int> text_count;
  for (const auto& v : verses) ++text_count[v.text];
  // Word 8-grams over the whole Bible: a "where" phrase must occur exactly once.
  std::vector<std::vector<std::string>> words(n);
  std::unordered_map<std::string, int> gram_count;
  for (std::size_t i = 0; i < n; ++i) {
    words[i] = split_words(verses[i].text);
    for (std::size_t k = 0; k + kPhraseWords <= words[i].size(); ++k)
      ++gram_count[join_words(words[i], k, k + kPhraseWords)];
  }
  // "Finish this verse" only where no other verse starts with the same words.
  std::vector<std::string_view> sorted_texts;
  for (const auto& v : verses) sorted_texts.push_back(v.text);
  std::sort(sorted_texts.begin(), sorted_texts.end());
  auto verses_starting_with = [&](const std::string& p) {
    std::size_t k = 0;
    for (auto it = std::lower_bound(sorted_texts.begin(), sorted_texts.end(), p);
         it != sorted_texts.end() && it->substr(0, p.size()) == p; ++it)
      ++k;
    return k;
  };
  auto usable = [&](std::size_t i) {
    return text_count[verses[i].text] == 1 && words[i].size() <= kMaxVerseWords &&
           words[i].size() >= kMinFinishWords;
  };
  Rng rng = Rng::stream(o.seed, 1);
  std::vector<std::size_t> chosen;
  std::size_t examples = 0;
  for (std::size_t i : shuffled_indices(n, rng)) {
    if (examples + 3 > budget) break;  // a verse gives up to 3 conversations
    if (!usable(i)) continue;
    chosen.push_back(i);
    examples += 3;
  }
  const std::size_t n_test = test_count(chosen.size(), o.test_fraction);
  std::unordered_set<std::size_t> test_items(chosen.begin(), chosen.begin() + n_test);
  auto half = [&](std::size_t i) { return words[i].size() / 2; };
  Rng rej = Rng::stream(o.seed, 4);  // rejected kinds; item choice above stays as it was
  for (std::size_t c = 0; c < chosen.size(); ++c) {
    const std::size_t i = chosen[c];
    const bool is_test = c < n_test;
    std::vector<ChatExample>& dst = is_test ? out.test : out.train;
    // Train examples never borrow a test verse as their wrong answer.
    auto allowed = [&](std::size_t j) { return is_test || !test_items.count(j); };
    const KjvVerse& v = verses[i];
    const std::string item = "kjv:" + v.reference();
    const std::size_t q =
        nearest(i, n, [&](std::size_t j) { return allowed(j) && verses[j].text != v.text; });
    // "Other": a verse of another book (usable, allowed for this split).
    const std::size_t far = random_other(n, rej, [&](std::size_t j) {
      return allowed(j) && usable(j) && verses[j].book != v.book;
    });
    auto add = [&](const char* kind, std::string prompt, const std::string& answer,
                   const std::string& neighbour, const std::string& other,
                   const std::string& wrong_form) {
      const RejectedChoice r = rejected_pick(answer, neighbour, other, wrong_form, rej);
      if (!r.text.empty()) dst.push_back({item, kind, std::move(prompt), answer, r.text, r.kind});
    };
    if (q < n)
      add("quote", str("Quote ", v.reference(), "."), v.text, verses[q].text,
          far < n ? verses[far].text : "", v.reference());
    const std::string rest = join_words(words[i], half(i), words[i].size());
    const std::size_t f = nearest(i, n, [&](std::size_t j) {
      return allowed(j) && words[j].size() >= 2 &&
             join_words(words[j], half(j), words[j].size()) != rest;
    });
    const std::string start = join_words(words[i], 0, half(i));
    if (f < n && verses_starting_with(start + " ") == 1) {
      add("finish", str("Finish this verse: ", start), rest,
          join_words(words[f], half(f), words[f].size()),
          far < n ? join_words(words[far], half(far), words[far].size()) : "", v.reference());
    }
    for (std::size_t k = 0; k + kPhraseWords <= words[i].size(); ++k) {
      const std::string phrase = join_words(words[i], k, k + kPhraseWords);
      if (gram_count[phrase] != 1) continue;
      const std::size_t r = nearest(i, n, allowed);
      if (r < n) {
        // Not another verse's reference here: which book or verse number a phrase is
        // from is knowledge a small model lacks, and DPO pushing those book and digit
        // tokens down derails its answers ("1aiah 1111..."); the form is learnable.
        add("where", str("Where does it say '", phrase, "'?"), v.reference(), "", "", v.text);
      }
      break;
    }
  }
}

bool plain_word(const std::string& w) {
  if (w.size() < 3) return false;
  for (char c : w)
    if (!((c >= 'a' && c <= 'z') || c == ' ' || c == '-')) return false;
  return true;
}

void build_wordnet(const std::vector<WordnetSynset>& synsets, const ChatDataBuildOptions& o,
                   std::size_t budget, ChatDataSet& out) {
  const std::size_t n = synsets.size();
  // A word asked about must name one synset only (its meaning is then unambiguous),
  // and a definition must be unique (a test answer is never a train answer).
  std::unordered_map<std::string, int> word_count, def_count;
  for (const auto& s : synsets) {
    ++def_count[s.definition];
    for (const auto& w : s.words) ++word_count[w];
  }
  std::vector<std::string> word(n);  // the word asked about; empty = unusable
  for (std::size_t i = 0; i < n; ++i) {
    if (def_count[synsets[i].definition] != 1) continue;
    if (split_words(synsets[i].definition).size() > kMaxDefinitionWords) continue;
    for (const auto& w : synsets[i].words) {
      if (plain_word(w) && word_count[w] == 1) {
        word[i] = w;
        break;
      }
    }
  }
  Rng rng = Rng::stream(o.seed, 2);
  std::vector<std::size_t> chosen;
  for (std::size_t i : shuffled_indices(n, rng)) {
    if (chosen.size() >= budget) break;
    if (!word[i].empty()) chosen.push_back(i);
  }
  const std::size_t n_test = test_count(chosen.size(), o.test_fraction);
  std::unordered_set<std::size_t> test_items(chosen.begin(), chosen.begin() + n_test);
  Rng rej = Rng::stream(o.seed, 5);  // rejected kinds
  for (std::size_t c = 0; c < chosen.size(); ++c) {
    const std::size_t i = chosen[c];
    const bool is_test = c < n_test;
    const WordnetSynset& s = synsets[i];
    // "Other": a gloss from far away in the database (another topic).
    const std::size_t far = random_other(n, rej, [&](std::size_t j) {
      return (is_test || !test_items.count(j)) && synsets[j].definition != s.definition &&
             (j > i ? j - i : i - j) > 1000;
    });
    // Wrong answer: the gloss of a neighbouring synset of the same file (related
    // words sit close together in the database).
    const std::size_t r = nearest(i, n, [&](std::size_t j) {
      return (is_test || !test_items.count(j)) && synsets[j].definition != s.definition;
    });
    const RejectedChoice rc =
        rejected_pick(s.definition, r < n ? synsets[r].definition : "",
                      far < n ? synsets[far].definition : "",
                      str("'", word[i], "'"), rej);
    if (rc.text.empty()) continue;
    (is_test ? out.test : out.train)
        .push_back({str("wordnet:", s.pos, s.offset), "define",
                    str("What does '", word[i], "' mean?"), s.definition, rc.text, rc.kind});
  }
}

}  // namespace

ChatDataSource chat_data_source_parse(const std::string& name) {
  if (name == "kjv") return ChatDataSource::kKjv;
  if (name == "wordnet") return ChatDataSource::kWordnet;
  if (name == "both") return ChatDataSource::kBoth;
  throw input_error(str("--source \"", name, "\": expected kjv, wordnet or both"));
}

ChatDataSet chat_data_build(const std::vector<KjvVerse>& verses,
                            const std::vector<WordnetSynset>& synsets,
                            const ChatDataBuildOptions& o) {
  if (!(o.test_fraction >= 0 && o.test_fraction < 1))
    throw input_error(str("--test-fraction ", o.test_fraction, ": must be in [0, 1)"));
  if (o.max_examples == 0) throw input_error("--max-examples must be at least 1");
  ChatDataSet out;
  const bool both = !verses.empty() && !synsets.empty();
  const std::size_t kjv_budget = both ? o.max_examples / 2 : o.max_examples;
  if (!verses.empty()) build_kjv(verses, o, kjv_budget, out);
  if (!synsets.empty()) build_wordnet(synsets, o, o.max_examples - (both ? kjv_budget : 0), out);
  // Mix the kinds and sources in the files (a reader that does not shuffle still sees
  // a fair sample in any prefix).
  Rng rng = Rng::stream(o.seed, 3);
  for (auto* split : {&out.train, &out.test}) {
    const std::vector<std::size_t> order = shuffled_indices(split->size(), rng);
    std::vector<ChatExample> mixed;
    mixed.reserve(split->size());
    for (std::size_t k : order) mixed.push_back(std::move((*split)[k]));
    *split = std::move(mixed);
  }
  return out;
}

}  // namespace weft::data
