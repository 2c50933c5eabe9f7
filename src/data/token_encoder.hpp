// What the data pipeline needs from a tokenizer: encode text, the vocabulary size,
// the <|endoftext|> id and a content hash for manifests. The ETL and loader depend on
// this small interface; tokenizer_encoder.hpp adapts weft's BPE Tokenizer to it and
// tests plug in trivial encoders. Implementations must be safe to call from several
// threads and to use in forked worker processes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace weft::data {

class TokenEncoder {
 public:
  virtual ~TokenEncoder() = default;
  // Appends the ids of `text` (ordinary text: special-token strings are plain text).
  virtual void encode_append(std::string_view text, std::vector<std::uint32_t>& out) const = 0;
  virtual std::uint32_t vocab_size() const = 0;
  virtual std::uint32_t eot_id() const = 0;
  // Identifies the tokenizer's content (same hash ⇔ same ids for every text).
  virtual std::string content_hash() const = 0;
  // A short human name for logs and the manifest ("gpt2", a file name).
  virtual std::string name() const = 0;
};

}  // namespace weft::data
