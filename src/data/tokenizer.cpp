// data::Tokenizer: encode (pre-tokenise → cache / whole-token lookup / BPE), decode,
// special tokens. The Tokenizer is immutable; each thread keeps its own piece caches
// (thread_local, keyed by the tokenizer's uid), so encode needs no locks.
#include "data/tokenizer.hpp"

#include <array>
#include <atomic>

#include "core/error.hpp"
#include "data/tokenizer_impl.hpp"
#include "data/tokenizer_pretokenize.hpp"

namespace weft::data {
namespace {

std::atomic<uint64_t> g_next_uid{1};

constexpr std::size_t kMaxCachedPieceBytes = 256;

// The calling thread's cache for tokenizer `uid` (a few tokenizers may alternate).
detail::PieceCache& thread_cache(uint64_t uid) {
  struct Entry {
    uint64_t uid = 0;
    std::unique_ptr<detail::PieceCache> cache;
  };
  thread_local std::array<Entry, 4> entries;
  thread_local std::size_t next_victim = 0;
  for (auto& e : entries)
    if (e.uid == uid) return *e.cache;
  Entry& e = entries[next_victim];
  next_victim = (next_victim + 1) % entries.size();
  e.uid = uid;
  e.cache = std::make_unique<detail::PieceCache>();
  return *e.cache;
}

void encode_piece(const detail::Vocab& v, detail::PieceCache& cache, std::string_view piece,
                  std::vector<uint32_t>& out) {
  if (piece.size() == 1) {
    out.push_back(v.byte_to_id[static_cast<unsigned char>(piece[0])]);
    return;
  }
  const uint64_t h = detail::hash_bytes(piece);
  // tiktoken: a pre-token that is itself a token is emitted whole, before any BPE.
  if (const uint32_t id = v.bytes_to_id.find(piece, h); id != detail::kNoRank) {
    out.push_back(id);
    return;
  }
  const bool cacheable = piece.size() <= kMaxCachedPieceBytes;
  if (cacheable && cache.lookup(piece, h, out)) return;
  const std::size_t start = out.size();
  if (piece.size() <= detail::kLinearMergeMaxBytes)
    detail::bpe_merge_linear(v, piece, out);
  else
    detail::bpe_merge_heap(v, piece, out);
  if (cacheable) cache.insert(piece, h, out.data() + start, out.size() - start);
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::from_ranks(std::vector<std::string> token_bytes) {
  auto impl = std::make_unique<Impl>();
  impl->uid = g_next_uid.fetch_add(1);
  detail::vocab_build(impl->vocab, std::move(token_bytes), "tokenizer");
  return Tokenizer(std::move(impl));
}

void Tokenizer::encode_append(std::string_view text, std::vector<uint32_t>& out) const {
  const detail::Vocab& v = impl_->vocab;
  detail::PieceCache& cache = thread_cache(impl_->uid);
  pretokenize_each(text, [&](std::string_view piece) { encode_piece(v, cache, piece, out); });
}

std::vector<uint32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<uint32_t> out;
  out.reserve(text.size() / 3 + 16);
  encode_append(text, out);
  return out;
}

std::vector<uint32_t> Tokenizer::encode_with_specials(std::string_view text) const {
  std::vector<uint32_t> out;
  out.reserve(text.size() / 3 + 16);
  std::size_t done = 0;
  std::size_t at = text.find("<|");
  while (at != std::string_view::npos) {
    bool matched = false;
    for (uint32_t i = 0; i < kNumSpecialTokens; ++i) {
      if (text.substr(at).starts_with(kSpecialTokenNames[i])) {
        encode_append(text.substr(done, at - done), out);
        out.push_back(impl_->vocab.n_mergeable + i);
        done = at + kSpecialTokenNames[i].size();
        matched = true;
        break;
      }
    }
    at = text.find("<|", matched ? done : at + 1);
  }
  encode_append(text.substr(done), out);
  return out;
}

std::string Tokenizer::decode(std::span<const uint32_t> ids) const {
  const detail::Vocab& v = impl_->vocab;
  std::string out;
  out.reserve(ids.size() * 4);
  const uint32_t n = vocab_size();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] >= n)
      throw input_error(str("decode: token id ", ids[i], " at position ", i,
                            " is outside the vocabulary (size ", n, ")"),
                        "were these ids made with another tokenizer?");
    out.append(v.token(ids[i]));
  }
  return out;
}

std::string_view Tokenizer::token_bytes(uint32_t id) const {
  if (id >= vocab_size())
    throw input_error(str("token id ", id, " is outside the vocabulary (size ", vocab_size(), ")"));
  return impl_->vocab.token(id);
}

uint32_t Tokenizer::vocab_size() const {
  return impl_->vocab.n_mergeable + kNumSpecialTokens;
}
uint32_t Tokenizer::n_mergeable() const {
  return impl_->vocab.n_mergeable;
}

SpecialIds Tokenizer::special_ids() const {
  const uint32_t b = impl_->vocab.n_mergeable;
  return {b, b + 1, b + 2, b + 3, b + 4};
}

std::optional<uint32_t> Tokenizer::special_id(std::string_view name) const {
  for (uint32_t i = 0; i < kNumSpecialTokens; ++i)
    if (kSpecialTokenNames[i] == name) return impl_->vocab.n_mergeable + i;
  return std::nullopt;
}

std::string Tokenizer::content_hash() const {
  return impl_->vocab.content_hash;
}

}  // namespace weft::data
