// Parsing and validation of OpenAI-format request bodies (see api_request.hpp).
// Unknown fields are ignored (clients send extras such as "user"); known fields are
// type-checked strictly, so a wrong type is a 400 naming it, never a crash.
#include "serve/api_request.hpp"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "serve/api_error.hpp"

namespace weft::serve {
namespace {

using nlohmann::json;

const json* field(const json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return nullptr;  // null = absent, as OpenAI does
  return &*it;
}

double get_number(const json& obj, const char* name, double lo, double hi) {
  const json& v = obj.at(name);
  if (!v.is_number()) throw bad_param(name, std::string("'") + name + "' must be a number");
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi)
    throw bad_param(name, std::string("'") + name + "' must be between " + json(lo).dump() +
                              " and " + json(hi).dump());
  return x;
}

long long get_integer(const json& obj, const char* name, long long lo, long long hi) {
  const json& v = obj.at(name);
  if (!v.is_number_integer())
    throw bad_param(name, std::string("'") + name + "' must be an integer");
  // Unsigned values above int64 compare as huge; read both kinds safely.
  if (v.is_number_unsigned() &&
      v.get<unsigned long long>() >
          static_cast<unsigned long long>(std::numeric_limits<long long>::max()))
    throw bad_param(name, std::string("'") + name + "' is out of range");
  const long long x = v.get<long long>();
  if (x < lo || x > hi)
    throw bad_param(name, std::string("'") + name + "' must be between " + std::to_string(lo) +
                              " and " + std::to_string(hi));
  return x;
}

bool get_bool(const json& obj, const char* name) {
  const json& v = obj.at(name);
  if (!v.is_boolean()) throw bad_param(name, std::string("'") + name + "' must be a boolean");
  return v.get<bool>();
}

// A message's content: a string, or an array of {"type":"text","text":...} parts.
std::string message_content(const json& content, const std::string& param) {
  if (content.is_string()) return content.get<std::string>();
  if (content.is_array()) {
    std::string text;
    for (std::size_t i = 0; i < content.size(); ++i) {
      const json& part = content[i];
      const std::string p = param + "[" + std::to_string(i) + "]";
      if (!part.is_object()) throw bad_param(p, "a content part must be an object");
      auto type = part.find("type");
      if (type == part.end() || !type->is_string() || *type != "text")
        throw bad_param(p + ".type", "only content parts of type 'text' are supported");
      auto t = part.find("text");
      if (t == part.end() || !t->is_string())
        throw bad_param(p + ".text", "a text part needs a string 'text'");
      text += t->get<std::string>();
    }
    return text;
  }
  throw bad_param(param, "'content' must be a string or an array of text parts");
}

std::vector<data::ChatMessage> parse_messages(const json& body) {
  const json* msgs = field(body, "messages");
  if (!msgs)
    throw bad_param("messages", "missing required parameter 'messages'",
                    "missing_required_parameter");
  if (!msgs->is_array()) throw bad_param("messages", "'messages' must be an array");
  if (msgs->empty()) throw bad_param("messages", "'messages' must hold at least one message");
  std::vector<data::ChatMessage> out;
  for (std::size_t i = 0; i < msgs->size(); ++i) {
    const json& m = (*msgs)[i];
    const std::string p = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) throw bad_param(p, p + " must be an object");
    auto role = m.find("role");
    if (role == m.end() || !role->is_string())
      throw bad_param(p + ".role", p + " needs a string 'role'");
    const std::string r = role->get<std::string>();
    data::ChatMessage msg;
    if (r == "system" || r == "developer")
      msg.role = data::ChatRole::kSystem;
    else if (r == "user")
      msg.role = data::ChatRole::kUser;
    else if (r == "assistant")
      msg.role = data::ChatRole::kAssistant;
    else
      throw bad_param(p + ".role", "unsupported role '" + r +
                                       "' (expected system, developer, user or assistant)");
    auto content = m.find("content");
    if (content == m.end() || content->is_null()) {
      if (msg.role != data::ChatRole::kAssistant)
        throw bad_param(p + ".content", p + " needs 'content'", "missing_required_parameter");
    } else {
      msg.content = message_content(*content, p + ".content");
    }
    out.push_back(std::move(msg));
  }
  return out;
}

std::string parse_prompt(const json& body) {
  const json* prompt = field(body, "prompt");
  if (!prompt)
    throw bad_param("prompt", "missing required parameter 'prompt'", "missing_required_parameter");
  if (prompt->is_string()) return prompt->get<std::string>();
  if (prompt->is_array()) {
    if (prompt->size() == 1 && (*prompt)[0].is_string()) return (*prompt)[0].get<std::string>();
    throw bad_param("prompt",
                    "'prompt' must be a string or an array of exactly one string "
                    "(batched and token-id prompts are not supported)");
  }
  throw bad_param("prompt", "'prompt' must be a string");
}

std::vector<std::string> parse_stop(const json& body) {
  const json* stop = field(body, "stop");
  if (!stop) return {};
  std::vector<std::string> out;
  if (stop->is_string()) {
    out.push_back(stop->get<std::string>());
  } else if (stop->is_array()) {
    if (stop->size() > 4) throw bad_param("stop", "'stop' holds at most 4 sequences");
    for (const json& s : *stop) {
      if (!s.is_string()) throw bad_param("stop", "'stop' must be a string or an array of strings");
      out.push_back(s.get<std::string>());
    }
  } else {
    throw bad_param("stop", "'stop' must be a string or an array of strings");
  }
  for (const std::string& s : out)
    if (s.empty()) throw bad_param("stop", "a stop sequence must not be empty");
  return out;
}

}  // namespace

ApiRequest parse_api_request(std::string_view body, ApiKind kind) {
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    throw ApiError(400, "the request body is not valid JSON", "invalid_request_error", "",
                   "invalid_json");
  if (!j.is_object())
    throw ApiError(400, "the request body must be a JSON object", "invalid_request_error", "",
                   "invalid_json");

  ApiRequest r;
  r.kind = kind;
  const json* model = field(j, "model");
  if (!model)
    throw bad_param("model", "missing required parameter 'model'", "missing_required_parameter");
  if (!model->is_string()) throw bad_param("model", "'model' must be a string");
  r.model = model->get<std::string>();

  if (kind == ApiKind::kChat)
    r.messages = parse_messages(j);
  else
    r.prompt = parse_prompt(j);

  const char* max_name = field(j, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  if (field(j, max_name)) r.max_tokens = static_cast<int>(get_integer(j, max_name, 1, 1 << 30));
  if (field(j, "temperature"))
    r.temperature = static_cast<float>(get_number(j, "temperature", 0, 2));
  if (field(j, "top_p")) {
    r.top_p = static_cast<float>(get_number(j, "top_p", 0, 1));
    if (r.top_p <= 0) throw bad_param("top_p", "'top_p' must be greater than 0");
  }
  if (field(j, "top_k")) r.top_k = static_cast<int>(get_integer(j, "top_k", 0, 1 << 30));
  if (field(j, "repetition_penalty"))
    r.repetition_penalty = static_cast<float>(get_number(j, "repetition_penalty", 1e-3, 100));
  // Accepted for compatibility, not applied (documented in docs/serving.md).
  if (field(j, "presence_penalty")) get_number(j, "presence_penalty", -2, 2);
  if (field(j, "frequency_penalty")) get_number(j, "frequency_penalty", -2, 2);
  if (field(j, "seed"))
    r.seed = static_cast<std::uint64_t>(get_integer(
        j, "seed", std::numeric_limits<long long>::min(), std::numeric_limits<long long>::max()));
  if (field(j, "n") && get_integer(j, "n", 1, 128) != 1)
    throw bad_param("n", "only n = 1 is supported");
  if (field(j, "logprobs")) {
    const json& lp = j.at("logprobs");
    if (!(lp.is_boolean() && !lp.get<bool>()))
      throw bad_param("logprobs", "'logprobs' is not supported");
  }
  if (field(j, "stream")) r.stream = get_bool(j, "stream");
  if (const json* so = field(j, "stream_options")) {
    if (!so->is_object()) throw bad_param("stream_options", "'stream_options' must be an object");
    if (field(*so, "include_usage")) {
      if (!so->at("include_usage").is_boolean())
        throw bad_param("stream_options.include_usage", "'include_usage' must be a boolean");
      r.include_usage = so->at("include_usage").get<bool>();
    }
  }
  r.stop = parse_stop(j);
  return r;
}

}  // namespace weft::serve
