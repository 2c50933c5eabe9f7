// Tokenizing one work unit of `weft data prepare` (what each worker process does):
// reads the unit's bytes, checks they are text, splits JSONL lines into documents,
// and encodes with <|endoftext|> before every document. Any thread or process.
#pragma once

#include <cstdint>
#include <vector>

#include "data/etl_plan.hpp"
#include "data/token_encoder.hpp"

namespace weft::data {

// Tokens of `unit` as uint16 (the encoder's vocabulary must fit, checked by the
// caller). Throws weft::Error (kInput) naming the file and byte offset on binary
// data or a malformed JSONL line.
std::vector<std::uint16_t> etl_tokenize_unit(const Plan& plan, const Unit& unit,
                                             const TokenEncoder& encoder);

}  // namespace weft::data
