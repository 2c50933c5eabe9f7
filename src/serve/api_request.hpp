// Parsing and validation of OpenAI-format request bodies (/v1/chat/completions,
// /v1/completions) into a plain ApiRequest. Everything a client can get wrong is an
// ApiError (400) naming the field; nothing else is thrown. Pure; any thread (the HTTP
// threads call it before anything is queued for the model).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "data/chat_template.hpp"

namespace weft::serve {

enum class ApiKind { kChat, kCompletion };

struct ApiRequest {
  ApiKind kind = ApiKind::kChat;
  std::string model;
  std::vector<data::ChatMessage> messages;  // kChat: >= 1
  std::string prompt;                       // kCompletion
  std::optional<int> max_tokens;            // >= 1; absent = server default
  float temperature = 1.0f;                 // [0, 2]; 0 = greedy
  float top_p = 1.0f;                       // (0, 1]
  int top_k = 0;                            // extension (llama.cpp/vLLM): 0 = off
  float repetition_penalty = 1.0f;          // extension: > 0, 1 = off
  std::optional<std::uint64_t> seed;
  bool stream = false;
  bool include_usage = false;     // stream_options.include_usage
  std::vector<std::string> stop;  // <= 4 non-empty strings
};

// Parses `body` (the raw request bytes). Throws ApiError (400) with `param` set to the
// offending field: malformed JSON, not an object, missing or mistyped fields, values
// out of range, unsupported options (n != 1, token-id prompts, logprobs).
ApiRequest parse_api_request(std::string_view body, ApiKind kind);

}  // namespace weft::serve
