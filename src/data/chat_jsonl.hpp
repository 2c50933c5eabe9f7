// Readers of the chat JSONL files (docs/formats.md "Chat data"): SFT conversations
// {"messages":[{"role","content"},...]} and preference pairs {"prompt","chosen",
// "rejected"}. Blank lines are skipped; anything else malformed is a weft::Error
// (input) naming the file, the line and the field. Returned vectors are the caller's.
// Any thread.
#pragma once

#include <string>
#include <vector>

#include "data/chat_template.hpp"

namespace weft::data {

using ChatConversation = std::vector<ChatMessage>;

std::vector<ChatConversation> chat_read_conversations(const std::string& path);

struct PreferencePair {
  std::string prompt;    // one user message
  std::string chosen;    // the preferred assistant reply
  std::string rejected;  // the worse one
};

std::vector<PreferencePair> chat_read_pairs(const std::string& path);

// The conversation a pair's reply is scored in: user prompt, then assistant reply.
ChatConversation chat_pair_conversation(const std::string& prompt, const std::string& reply);

}  // namespace weft::data
