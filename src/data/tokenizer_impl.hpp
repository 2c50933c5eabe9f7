// Internals of data::Tokenizer shared by its source files (not a public API):
// the immutable vocabulary tables and the BPE merge routines. Everything here is
// read-only after construction except PieceCache, which each thread owns.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "data/tokenizer.hpp"

namespace weft::data::detail {

inline constexpr uint32_t kNoRank = 0xFFFFFFFFu;

// Hash of a byte string (8 bytes per step; quality enough for open addressing).
inline uint64_t hash_bytes(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xC2B2AE3D27D4EB4Full);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
  }
  if (i < n) {
    uint64_t w = 0;
    std::memcpy(&w, p + i, n - i);
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
  }
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 29;
  return h;
}

// Immutable open-addressing map: token bytes → id. Keys live in the owner's arena.
class BytesToId {
 public:
  // tokens[i] are the bytes of id i (unique).
  void build(const std::vector<std::string_view>& tokens);
  uint32_t find(std::string_view key, uint64_t hash) const {
    std::size_t i = hash & mask_;
    while (true) {
      const Slot& s = slots_[i];
      if (s.id == kNoRank) return kNoRank;
      if (s.hash == hash && keys_[s.id] == key) return s.id;
      i = (i + 1) & mask_;
    }
  }
  uint32_t find(std::string_view key) const { return find(key, hash_bytes(key)); }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t id = kNoRank;
  };
  std::vector<Slot> slots_;
  std::vector<std::string_view> keys_;  // id → bytes (views into the owner's arena)
  std::size_t mask_ = 0;
};

// Immutable open-addressing map: (left id, right id) → merged id (its rank).
class PairToRank {
 public:
  void build(const std::vector<std::pair<uint64_t, uint32_t>>& entries);
  uint32_t find(uint32_t a, uint32_t b) const {
    const uint64_t key = (uint64_t{a} << 32) | b;
    std::size_t i = mix(key) & mask_;
    while (true) {
      const Slot& s = slots_[i];
      if (s.key == key) return s.rank;
      if (s.key == kEmpty) return kNoRank;
      i = (i + 1) & mask_;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static uint64_t mix(uint64_t k) {
    k ^= k >> 31;
    k *= 0x9E3779B97F4A7C15ull;
    return k ^ (k >> 29);
  }
  struct Slot {
    uint64_t key = kEmpty;
    uint32_t rank = kNoRank;
  };
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
};

struct Vocab {
  std::string arena;              // bytes of every token, id order (specials last)
  std::vector<uint32_t> offsets;  // (vocab_size + 1,) token i = arena[offsets[i], offsets[i+1])
  uint32_t n_mergeable = 0;
  uint32_t byte_to_id[256] = {};
  BytesToId bytes_to_id;  // mergeable tokens only
  PairToRank pairs;       // every split of every mergeable token into two tokens
  std::string content_hash;

  std::string_view token(uint32_t id) const {
    return std::string_view(arena).substr(offsets[id], offsets[id + 1] - offsets[id]);
  }
};

// BPE of one pre-token with tiktoken's rule: repeatedly merge the adjacent pair whose
// merged token has the lowest rank, leftmost first. Appends ids to `out`.
// `linear` is O(n^2) and fastest for short pieces; `heap` is O(n log n) for long ones.
// Both give identical ids (a test checks); bpe_merge picks by length.
void bpe_merge_linear(const Vocab& v, std::string_view piece, std::vector<uint32_t>& out);
void bpe_merge_heap(const Vocab& v, std::string_view piece, std::vector<uint32_t>& out);
inline constexpr std::size_t kLinearMergeMaxBytes = 128;

// Per-thread cache: pre-token bytes → ids. Cleared when full.
class PieceCache {
 public:
  PieceCache();
  // Appends the cached ids for `key` to out and returns true, or returns false.
  bool lookup(std::string_view key, uint64_t hash, std::vector<uint32_t>& out) const;
  void insert(std::string_view key, uint64_t hash, const uint32_t* ids, std::size_t n_ids);

 private:
  struct Slot {
    uint64_t hash;
    uint32_t key_off, key_len;  // key_len 0 = empty
    uint32_t ids_off, n_ids;
  };
  void clear();
  std::vector<Slot> slots_;
  std::string keys_;
  std::vector<uint32_t> ids_;
  std::size_t used_ = 0;
};

// Builds a Vocab from mergeable tokens (rank order); throws weft::Error (input) on
// duplicates or missing single bytes, naming `source`.
void vocab_build(Vocab& v, std::vector<std::string> tokens, std::string_view source);

}  // namespace weft::data::detail

namespace weft::data {
struct Tokenizer::Impl {
  uint64_t uid;  // distinguishes tokenizers in the per-thread caches
  detail::Vocab vocab;
};
}  // namespace weft::data
