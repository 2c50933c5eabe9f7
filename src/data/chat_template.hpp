// The chat template shared by SFT (train/) and generation (infer/, serve/): a
// conversation rendered with the special tokens, as token ids plus a per-token mask
// of the assistant's tokens (SFT's loss weights). Rendered form: docs/formats.md
// "Chat template". Pure functions; any thread (Tokenizer is thread-safe).
//
//   <|system|>{system}<|end|><|user|>{user}<|end|><|assistant|>{reply}<|end|>...
// The prompt for generation ends with <|assistant|>; generation stops at <|end|>.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data/tokenizer.hpp"

namespace weft::data {

enum class ChatRole { kSystem, kUser, kAssistant };
// "system" / "user" / "assistant"; parse throws weft::Error (input) naming the text.
const char* chat_role_name(ChatRole role);
ChatRole chat_role_parse(std::string_view name);

struct ChatMessage {
  ChatRole role = ChatRole::kUser;
  std::string content;
};

struct ChatTokens {
  std::vector<std::uint32_t> ids;
  // 1 for the tokens the assistant produces (its content and its closing <|end|>),
  // 0 elsewhere (role tokens included). Same length as ids.
  std::vector<std::uint8_t> assistant_mask;
};

// Renders every message: <|role|> content <|end|>. Content is encoded as ordinary
// text (a special-token string typed by a user stays plain text).
ChatTokens chat_render(const Tokenizer& tok, const std::vector<ChatMessage>& messages);

// chat_render(messages) followed by <|assistant|>: the prompt a reply is generated from.
std::vector<std::uint32_t> chat_render_prompt(const Tokenizer& tok,
                                              const std::vector<ChatMessage>& messages);

}  // namespace weft::data
