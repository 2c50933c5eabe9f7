// OpenAI-format response bodies and SSE frames (see api_response.hpp).
#include "serve/api_response.hpp"

#include <nlohmann/json.hpp>

namespace weft::serve {
namespace {

using nlohmann::json;

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json usage_json(const infer::Usage& u) {
  return json{{"prompt_tokens", u.prompt_tokens},
              {"completion_tokens", u.completion_tokens},
              {"total_tokens", u.total_tokens}};
}

json head(const ResponseMeta& meta, const char* object) {
  return json{
      {"id", meta.id}, {"object", object}, {"created", meta.created}, {"model", meta.model}};
}

}  // namespace

std::string completion_body(const ResponseMeta& meta, const std::string& text,
                            const char* finish_reason, const infer::Usage& usage) {
  const bool chat = meta.kind == ApiKind::kChat;
  json j = head(meta, chat ? "chat.completion" : "text_completion");
  json choice{{"index", 0}, {"finish_reason", finish_reason}};
  if (chat) {
    choice["message"] = json{{"role", "assistant"}, {"content", text}};
  } else {
    choice["text"] = text;
    choice["logprobs"] = nullptr;
  }
  j["choices"] = json::array({std::move(choice)});
  j["usage"] = usage_json(usage);
  return dump(j);
}

std::string chunk_frame(const ResponseMeta& meta, std::string_view text, bool first,
                        const char* finish_reason) {
  const bool chat = meta.kind == ApiKind::kChat;
  json j = head(meta, chat ? "chat.completion.chunk" : "text_completion");
  json choice{{"index", 0}, {"finish_reason", finish_reason ? json(finish_reason) : json(nullptr)}};
  if (chat) {
    json delta = json::object();
    if (first) delta["role"] = "assistant";
    if (!text.empty() || (first && !finish_reason)) delta["content"] = std::string(text);
    choice["delta"] = std::move(delta);
  } else {
    choice["text"] = std::string(text);
    choice["logprobs"] = nullptr;
  }
  j["choices"] = json::array({std::move(choice)});
  return "data: " + dump(j) + "\n\n";
}

std::string usage_frame(const ResponseMeta& meta, const infer::Usage& usage) {
  json j = head(meta, meta.kind == ApiKind::kChat ? "chat.completion.chunk" : "text_completion");
  j["choices"] = json::array();
  j["usage"] = usage_json(usage);
  return "data: " + dump(j) + "\n\n";
}

std::string error_frame(const std::string& message) {
  json j{{"error",
          {{"message", message}, {"type", "server_error"}, {"param", nullptr}, {"code", nullptr}}}};
  return "data: " + dump(j) + "\n\n";
}

std::size_t utf8_complete_prefix(std::string_view bytes) {
  // Look back at most 3 bytes for the start of a sequence that is still open.
  const std::size_t n = bytes.size();
  for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(bytes[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation: keep looking for the lead byte
    std::size_t need = 0;
    if ((c & 0xE0) == 0xC0)
      need = 2;
    else if ((c & 0xF0) == 0xE0)
      need = 3;
    else if ((c & 0xF8) == 0xF0)
      need = 4;
    else
      return n;  // ASCII or invalid lead: nothing to wait for
    return back < need ? n - back : n;
  }
  return n;
}

std::string json_string(std::string_view bytes) {
  return dump(json(std::string(bytes)));
}

}  // namespace weft::serve
