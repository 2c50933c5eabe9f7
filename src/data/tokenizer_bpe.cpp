// BPE core of data::Tokenizer: vocabulary tables, the merge loop (tiktoken's rule:
// lowest-rank adjacent pair first, leftmost on ties) and the per-thread piece cache.
// Tables are built once and read-only; PieceCache is owned by one thread.
#include <algorithm>
#include <bit>
#include <queue>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "data/tokenizer_impl.hpp"

namespace weft::data::detail {
namespace {

std::size_t table_size_for(std::size_t n) {
  return std::bit_ceil(std::max<std::size_t>(16, n * 2));
}

}  // namespace

void BytesToId::build(const std::vector<std::string_view>& tokens) {
  keys_ = tokens;
  slots_.assign(table_size_for(tokens.size()), Slot{});
  mask_ = slots_.size() - 1;
  for (uint32_t id = 0; id < tokens.size(); ++id) {
    const uint64_t h = hash_bytes(tokens[id]);
    std::size_t i = h & mask_;
    while (slots_[i].id != kNoRank) i = (i + 1) & mask_;
    slots_[i] = {h, id};
  }
}

void PairToRank::build(const std::vector<std::pair<uint64_t, uint32_t>>& entries) {
  slots_.assign(table_size_for(entries.size()), Slot{});
  mask_ = slots_.size() - 1;
  for (const auto& [key, rank] : entries) {
    std::size_t i = mix(key) & mask_;
    while (slots_[i].key != kEmpty && slots_[i].key != key) i = (i + 1) & mask_;
    slots_[i] = {key, rank};
  }
}

void vocab_build(Vocab& v, std::vector<std::string> tokens, std::string_view source) {
  if (tokens.size() < 256)
    throw input_error(
        str(source, ": only ", tokens.size(),
            " mergeable tokens; a byte-level BPE needs at least the 256 single bytes"));
  if (tokens.size() + kNumSpecialTokens > 0xFFFFFFF0u)
    throw input_error(str(source, ": too many tokens (", tokens.size(), ")"));
  v.n_mergeable = static_cast<uint32_t>(tokens.size());
  v.arena.clear();
  v.offsets.assign(1, 0);
  for (const auto& t : tokens) {
    if (t.empty()) throw input_error(str(source, ": token ", v.offsets.size() - 1, " is empty"));
    v.arena += t;
    v.offsets.push_back(static_cast<uint32_t>(v.arena.size()));
  }
  for (std::string_view name : kSpecialTokenNames) {
    v.arena += name;
    v.offsets.push_back(static_cast<uint32_t>(v.arena.size()));
  }
  std::vector<std::string_view> views(v.n_mergeable);
  for (uint32_t id = 0; id < v.n_mergeable; ++id) views[id] = v.token(id);
  v.bytes_to_id.build(views);

  std::fill(std::begin(v.byte_to_id), std::end(v.byte_to_id), kNoRank);
  for (uint32_t id = 0; id < v.n_mergeable; ++id) {
    if (v.bytes_to_id.find(views[id]) != id)
      throw input_error(str(source, ": token ", id, " repeats the bytes of token ",
                            v.bytes_to_id.find(views[id]), "; tokens must be unique"));
    if (views[id].size() == 1) v.byte_to_id[static_cast<unsigned char>(views[id][0])] = id;
  }
  for (int b = 0; b < 256; ++b)
    if (v.byte_to_id[b] == kNoRank)
      throw input_error(str(source, ": no token for the single byte 0x", std::hex, b,
                            "; a byte-level BPE must hold all 256 bytes"));

  // Every split of every token into two tokens: the merge loop then works on ids and
  // still equals tiktoken's "rank of the concatenated bytes" rule exactly.
  std::vector<std::pair<uint64_t, uint32_t>> pairs;
  for (uint32_t id = 0; id < v.n_mergeable; ++id) {
    const std::string_view t = views[id];
    for (std::size_t k = 1; k < t.size(); ++k) {
      const uint32_t a = v.bytes_to_id.find(t.substr(0, k));
      if (a == kNoRank) continue;
      const uint32_t b = v.bytes_to_id.find(t.substr(k));
      if (b == kNoRank) continue;
      pairs.emplace_back((uint64_t{a} << 32) | b, id);
    }
  }
  v.pairs.build(pairs);

  // Canonical content → SHA-256 (independent of the file the tokenizer came from).
  Sha256 h;
  h.update(str("weft-tokenizer\nversion ", kTokenizerFileVersion, "\npattern gpt2\nmergeable ",
               v.n_mergeable, "\n"));
  for (uint32_t id = 0; id < v.n_mergeable; ++id) {
    const uint32_t len = static_cast<uint32_t>(views[id].size());
    const uint8_t len_le[4] = {static_cast<uint8_t>(len), static_cast<uint8_t>(len >> 8),
                               static_cast<uint8_t>(len >> 16), static_cast<uint8_t>(len >> 24)};
    h.update(len_le, 4);
    h.update(views[id]);
  }
  for (uint32_t i = 0; i < kNumSpecialTokens; ++i)
    h.update(str("special ", kSpecialTokenNames[i], " ", v.n_mergeable + i, "\n"));
  v.content_hash = h.finish_hex();
}

void bpe_merge_linear(const Vocab& v, std::string_view piece, std::vector<uint32_t>& out) {
  const std::size_t n = piece.size();
  // ids: (m,) current parts; ranks: (m-1,) rank of merging part i with part i+1.
  uint32_t ids_small[kLinearMergeMaxBytes], ranks_small[kLinearMergeMaxBytes];
  std::vector<uint32_t> ids_big, ranks_big;
  uint32_t* ids = ids_small;
  uint32_t* ranks = ranks_small;
  if (n > kLinearMergeMaxBytes) {
    ids_big.resize(n);
    ranks_big.resize(n);
    ids = ids_big.data();
    ranks = ranks_big.data();
  }
  for (std::size_t i = 0; i < n; ++i) ids[i] = v.byte_to_id[static_cast<unsigned char>(piece[i])];
  std::size_t m = n;
  for (std::size_t i = 0; i + 1 < m; ++i) ranks[i] = v.pairs.find(ids[i], ids[i + 1]);
  while (m > 1) {
    std::size_t best = 0;
    uint32_t best_rank = kNoRank;
    for (std::size_t i = 0; i + 1 < m; ++i)
      if (ranks[i] < best_rank) {
        best_rank = ranks[i];
        best = i;
      }
    if (best_rank == kNoRank) break;
    ids[best] = best_rank;
    for (std::size_t i = best + 1; i + 1 < m; ++i) ids[i] = ids[i + 1];
    for (std::size_t i = best + 1; i + 2 < m; ++i) ranks[i] = ranks[i + 1];
    --m;
    if (best + 1 < m) ranks[best] = v.pairs.find(ids[best], ids[best + 1]);
    if (best > 0) ranks[best - 1] = v.pairs.find(ids[best - 1], ids[best]);
  }
  out.insert(out.end(), ids, ids + m);
}

void bpe_merge_heap(const Vocab& v, std::string_view piece, std::vector<uint32_t>& out) {
  const uint32_t n = static_cast<uint32_t>(piece.size());
  constexpr uint32_t kNone = ~0u;
  // Doubly linked list of parts; a part is named by the byte offset where it starts,
  // which never changes, so (rank, offset) orders candidates like the linear scan.
  std::vector<uint32_t> id(n), next(n), prev(n);
  std::vector<bool> alive(n, true);
  for (uint32_t i = 0; i < n; ++i) {
    id[i] = v.byte_to_id[static_cast<unsigned char>(piece[i])];
    next[i] = i + 1 < n ? i + 1 : kNone;
    prev[i] = i > 0 ? i - 1 : kNone;
  }
  using Entry = std::pair<uint32_t, uint32_t>;  // (rank, left part offset)
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
  auto push = [&](uint32_t left) {
    if (left == kNone || next[left] == kNone) return;
    const uint32_t r = v.pairs.find(id[left], id[next[left]]);
    if (r != kNoRank) heap.emplace(r, left);
  };
  for (uint32_t i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    const auto [rank, left] = heap.top();
    heap.pop();
    if (!alive[left] || next[left] == kNone || v.pairs.find(id[left], id[next[left]]) != rank)
      continue;  // stale: the pair changed since it was pushed
    const uint32_t right = next[left];
    id[left] = rank;
    alive[right] = false;
    next[left] = next[right];
    if (next[right] != kNone) prev[next[right]] = left;
    push(prev[left]);
    push(left);
  }
  for (uint32_t i = 0; i != kNone && n > 0; i = next[i]) out.push_back(id[i]);
}

namespace {
constexpr std::size_t kCacheSlots = std::size_t{1} << 16;
constexpr std::size_t kCacheMaxUsed = kCacheSlots / 2;
constexpr std::size_t kCacheMaxKeyBytes = std::size_t{8} << 20;
}  // namespace

PieceCache::PieceCache() {
  clear();
}

void PieceCache::clear() {
  slots_.assign(kCacheSlots, Slot{0, 0, 0, 0, 0});
  keys_.clear();
  ids_.clear();
  used_ = 0;
}

bool PieceCache::lookup(std::string_view key, uint64_t hash, std::vector<uint32_t>& out) const {
  std::size_t i = hash & (kCacheSlots - 1);
  while (true) {
    const Slot& s = slots_[i];
    if (s.key_len == 0) return false;
    if (s.hash == hash && s.key_len == key.size() &&
        std::memcmp(keys_.data() + s.key_off, key.data(), key.size()) == 0) {
      out.insert(out.end(), ids_.begin() + s.ids_off, ids_.begin() + s.ids_off + s.n_ids);
      return true;
    }
    i = (i + 1) & (kCacheSlots - 1);
  }
}

void PieceCache::insert(std::string_view key, uint64_t hash, const uint32_t* ids,
                        std::size_t n_ids) {
  if (key.empty()) return;
  if (used_ >= kCacheMaxUsed || keys_.size() + key.size() > kCacheMaxKeyBytes) clear();
  std::size_t i = hash & (kCacheSlots - 1);
  while (slots_[i].key_len != 0) i = (i + 1) & (kCacheSlots - 1);
  slots_[i] = {hash, static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(key.size()),
               static_cast<uint32_t>(ids_.size()), static_cast<uint32_t>(n_ids)};
  keys_.append(key);
  ids_.insert(ids_.end(), ids, ids + n_ids);
  ++used_;
}

}  // namespace weft::data::detail
