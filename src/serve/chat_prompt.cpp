// Chat prompt rendering (see chat_prompt.hpp).
#include "serve/chat_prompt.hpp"

namespace weft::serve {

std::vector<std::uint32_t> chat_prompt_tokens(const data::Tokenizer& tok,
                                              const std::vector<data::ChatMessage>& messages) {
  const data::SpecialIds sp = tok.special_ids();
  std::vector<std::uint32_t> ids;
  for (const data::ChatMessage& m : messages) {
    ids.push_back(m.role == data::ChatRole::kSystem ? sp.system
                  : m.role == data::ChatRole::kUser ? sp.user
                                                    : sp.assistant);
    tok.encode_append(m.content, ids);  // user text stays text, even "<|end|>"
    ids.push_back(sp.end);
  }
  ids.push_back(sp.assistant);
  return ids;
}

}  // namespace weft::serve
