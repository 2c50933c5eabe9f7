// The chat template (see chat_template.hpp): role token, content as ordinary text,
// <|end|>, for each message; the assistant's content and <|end|> are masked in.
#include "data/chat_template.hpp"

#include "core/error.hpp"

namespace weft::data {

const char* chat_role_name(ChatRole role) {
  switch (role) {
    case ChatRole::kSystem:
      return "system";
    case ChatRole::kUser:
      return "user";
    case ChatRole::kAssistant:
      return "assistant";
  }
  return "user";
}

ChatRole chat_role_parse(std::string_view name) {
  if (name == "system") return ChatRole::kSystem;
  if (name == "user") return ChatRole::kUser;
  if (name == "assistant") return ChatRole::kAssistant;
  throw input_error(str("unknown chat role \"", name, "\" (expected system, user or assistant)"));
}

namespace {
std::uint32_t role_id(const SpecialIds& ids, ChatRole role) {
  switch (role) {
    case ChatRole::kSystem:
      return ids.system;
    case ChatRole::kUser:
      return ids.user;
    case ChatRole::kAssistant:
      return ids.assistant;
  }
  return ids.user;
}
}  // namespace

ChatTokens chat_render(const Tokenizer& tok, const std::vector<ChatMessage>& messages) {
  const SpecialIds ids = tok.special_ids();
  ChatTokens out;
  std::vector<std::uint32_t> content;
  for (const ChatMessage& m : messages) {
    const std::uint8_t mask = m.role == ChatRole::kAssistant ? 1 : 0;
    out.ids.push_back(role_id(ids, m.role));
    out.assistant_mask.push_back(0);
    content.clear();
    tok.encode_append(m.content, content);
    out.ids.insert(out.ids.end(), content.begin(), content.end());
    out.assistant_mask.insert(out.assistant_mask.end(), content.size(), mask);
    out.ids.push_back(ids.end);
    out.assistant_mask.push_back(mask);
  }
  return out;
}

std::vector<std::uint32_t> chat_render_prompt(const Tokenizer& tok,
                                              const std::vector<ChatMessage>& messages) {
  std::vector<std::uint32_t> ids = chat_render(tok, messages).ids;
  ids.push_back(tok.special_ids().assistant);
  return ids;
}

}  // namespace weft::data
