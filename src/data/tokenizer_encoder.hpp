// Adapts weft's BPE Tokenizer to the data pipeline's TokenEncoder interface.
// Owns the Tokenizer; as thread- and fork-safe as the Tokenizer itself.
#pragma once

#include <string>

#include "data/token_encoder.hpp"
#include "data/tokenizer.hpp"

namespace weft::data {

class TokenizerEncoder : public TokenEncoder {
 public:
  TokenizerEncoder(Tokenizer tokenizer, std::string name)
      : tokenizer_(std::move(tokenizer)),
        name_(std::move(name)),
        hash_(tokenizer_.content_hash()) {}
  void encode_append(std::string_view text, std::vector<std::uint32_t>& out) const override {
    tokenizer_.encode_append(text, out);
  }
  std::uint32_t vocab_size() const override { return tokenizer_.vocab_size(); }
  std::uint32_t eot_id() const override { return tokenizer_.eot_id(); }
  std::string content_hash() const override { return hash_; }
  std::string name() const override { return name_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }

 private:
  Tokenizer tokenizer_;
  std::string name_;
  std::string hash_;
};

}  // namespace weft::data
