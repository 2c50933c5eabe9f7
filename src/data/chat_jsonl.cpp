// Chat JSONL readers. See chat_jsonl.hpp.
#include "data/chat_jsonl.hpp"

#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace weft::data {
namespace {

using json = nlohmann::json;

// Calls fn(object, where) for every non-blank line of a JSONL file.
template <class Fn>
void for_each_jsonl(const std::string& path, Fn fn) {
  std::ifstream in(path);
  if (!in) throw io_error_errno("cannot open", path);
  std::string line;
  for (std::size_t no = 1; std::getline(in, line); ++no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = str(path, ":", no);
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception& e) {
      throw input_error(str(where, ": not valid JSON (", e.what(), ")"));
    }
    if (!j.is_object()) throw input_error(str(where, ": expected a JSON object"));
    fn(j, where);
  }
  if (in.bad()) throw io_error_errno("cannot read", path);
}

std::string string_field(const json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string())
    throw input_error(str(where, ": field \"", key, "\" is missing or not a string"));
  return it->get<std::string>();
}

}  // namespace

std::vector<ChatConversation> chat_read_conversations(const std::string& path) {
  std::vector<ChatConversation> out;
  for_each_jsonl(path, [&](const json& j, const std::string& where) {
    const auto it = j.find("messages");
    if (it == j.end() || !it->is_array() || it->empty())
      throw input_error(str(where, ": field \"messages\" is missing or not a non-empty array"));
    ChatConversation conv;
    for (std::size_t i = 0; i < it->size(); ++i) {
      const json& m = (*it)[i];
      const std::string at = str(where, ": messages[", i, "]");
      if (!m.is_object()) throw input_error(str(at, ": expected an object"));
      ChatMessage msg;
      try {
        msg.role = chat_role_parse(string_field(m, "role", at));
      } catch (const Error& e) {
        throw input_error(str(at, ": ", e.what()));
      }
      msg.content = string_field(m, "content", at);
      conv.push_back(std::move(msg));
    }
    out.push_back(std::move(conv));
  });
  if (out.empty()) throw input_error(str(path, ": no conversations"));
  return out;
}

std::vector<PreferencePair> chat_read_pairs(const std::string& path) {
  std::vector<PreferencePair> out;
  for_each_jsonl(path, [&](const json& j, const std::string& where) {
    out.push_back({string_field(j, "prompt", where), string_field(j, "chosen", where),
                   string_field(j, "rejected", where)});
  });
  if (out.empty()) throw input_error(str(path, ": no preference pairs"));
  return out;
}

ChatConversation chat_pair_conversation(const std::string& prompt, const std::string& reply) {
  return {{ChatRole::kUser, prompt}, {ChatRole::kAssistant, reply}};
}

}  // namespace weft::data
