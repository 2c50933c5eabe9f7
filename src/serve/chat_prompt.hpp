// The chat prompt a reply is generated from, rendered with the shared chat template
// (data/chat_template.hpp): <|role|>content<|end|>... then <|assistant|>. Kept in serve/
// until data/chat_template.cpp lands on this branch (branch `infer` owns it); it
// follows that header's contract exactly so the two can be swapped. Pure; any thread.
#pragma once

#include <cstdint>
#include <vector>

#include "data/chat_template.hpp"
#include "data/tokenizer.hpp"

namespace weft::serve {

std::vector<std::uint32_t> chat_prompt_tokens(const data::Tokenizer& tok,
                                              const std::vector<data::ChatMessage>& messages);

}  // namespace weft::serve
