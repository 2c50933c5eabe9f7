// Reading and rendering RLHF's JSONL inputs. See rlhf_data.hpp.
#include "train/rlhf_data.hpp"

#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "data/chat_template.hpp"

namespace weft::train {
namespace {

std::vector<std::int32_t> to_i32(const std::vector<std::uint32_t>& ids) {
  return std::vector<std::int32_t>(ids.begin(), ids.end());
}

// Calls fn(json, line_number) for every non-empty line.
template <class Fn>
void for_each_json_line(const std::string& path, Fn&& fn) {
  std::ifstream in(path);
  if (!in) throw io_error_errno("cannot open", path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw input_error(str(path, ":", n, ": not valid JSON (", e.what(), ")"));
    }
    if (!j.is_object()) throw input_error(str(path, ":", n, ": expected a JSON object"));
    fn(j, n);
  }
}

std::string field(const nlohmann::json& j, const char* name, const std::string& path, int line) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string())
    throw input_error(str(path, ":", line, ": missing string field \"", name, "\""));
  return it->get<std::string>();
}

}  // namespace

std::vector<PreferencePair> rlhf_load_pairs(const std::string& path, const data::Tokenizer& tok,
                                            int max_seq, int* skipped) {
  const std::int32_t end = static_cast<std::int32_t>(tok.special_ids().end);
  std::vector<PreferencePair> out;
  int skip = 0;
  for_each_json_line(path, [&](const nlohmann::json& j, int line) {
    PreferencePair p;
    p.prompt = to_i32(data::chat_render_prompt(
        tok, {{data::ChatRole::kUser, field(j, "prompt", path, line)}}));
    p.chosen = to_i32(tok.encode(field(j, "chosen", path, line)));
    p.rejected = to_i32(tok.encode(field(j, "rejected", path, line)));
    p.chosen.push_back(end);
    p.rejected.push_back(end);
    const int room = max_seq - static_cast<int>(p.prompt.size());
    if (room < 2) {
      ++skip;
      return;
    }
    if (static_cast<int>(p.chosen.size()) > room) p.chosen.resize(static_cast<std::size_t>(room));
    if (static_cast<int>(p.rejected.size()) > room) p.rejected.resize(static_cast<std::size_t>(room));
    out.push_back(std::move(p));
  });
  if (out.empty()) throw input_error(str(path, ": no usable preference pairs"));
  if (skipped) *skipped = skip;
  return out;
}

std::vector<std::vector<std::int32_t>> rlhf_load_prompts(const std::string& path,
                                                         const data::Tokenizer& tok,
                                                         int max_prompt, int* skipped) {
  std::vector<std::vector<std::int32_t>> out;
  int skip = 0;
  for_each_json_line(path, [&](const nlohmann::json& j, int line) {
    std::vector<data::ChatMessage> messages;
    if (j.contains("prompt")) {
      messages.push_back({data::ChatRole::kUser, field(j, "prompt", path, line)});
    } else if (j.contains("messages") && j["messages"].is_array()) {
      for (const nlohmann::json& m : j["messages"]) {
        if (!m.is_object()) throw input_error(str(path, ":", line, ": a message is not an object"));
        const data::ChatRole role = data::chat_role_parse(field(m, "role", path, line));
        messages.push_back({role, field(m, "content", path, line)});
      }
      while (!messages.empty() && messages.back().role == data::ChatRole::kAssistant)
        messages.pop_back();
      if (messages.empty())
        throw input_error(str(path, ":", line, ": no message before the assistant's reply"));
    } else {
      throw input_error(str(path, ":", line, ": expected a \"prompt\" or \"messages\" field"));
    }
    std::vector<std::int32_t> p = to_i32(data::chat_render_prompt(tok, messages));
    if (static_cast<int>(p.size()) > max_prompt) {
      ++skip;
      return;
    }
    out.push_back(std::move(p));
  });
  if (out.empty()) throw input_error(str(path, ": no usable prompts"));
  if (skipped) *skipped = skip;
  return out;
}

}  // namespace weft::train
