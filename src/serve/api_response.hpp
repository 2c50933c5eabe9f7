// OpenAI-format response bodies: the whole completion (chat.completion / text_completion),
// the streamed chunks (chat.completion.chunk / text_completion) framed as server-sent
// events, and the UTF-8 boundary helper streaming needs (a token may end mid-character).
// Pure functions returning owned strings; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "infer/engine.hpp"
#include "serve/api_request.hpp"

namespace weft::serve {

struct ResponseMeta {
  ApiKind kind = ApiKind::kChat;
  std::string id;            // "chatcmpl-..." / "cmpl-..."
  std::int64_t created = 0;  // Unix seconds
  std::string model;
};

// {"id","object","created","model","choices":[{index, message|text, finish_reason}],"usage"}.
std::string completion_body(const ResponseMeta& meta, const std::string& text,
                            const char* finish_reason, const infer::Usage& usage);

// One SSE frame "data: {chunk}\n\n". Chat: delta {role?, content?}; completion: text.
// finish_reason null unless given. `first` adds the chat delta's role "assistant".
std::string chunk_frame(const ResponseMeta& meta, std::string_view text, bool first,
                        const char* finish_reason);
// The final usage chunk (stream_options.include_usage): "choices": [] and "usage".
std::string usage_frame(const ResponseMeta& meta, const infer::Usage& usage);
// "data: {"error":...}\n\n" for a failure after the stream started.
std::string error_frame(const std::string& message);
inline constexpr std::string_view kDoneFrame = "data: [DONE]\n\n";

// Length of the longest prefix of `bytes` that does not end inside a UTF-8 sequence
// that could still be completed by more bytes (invalid bytes count as complete, so
// they are never held forever).
std::size_t utf8_complete_prefix(std::string_view bytes);

// JSON text of a string that may hold invalid UTF-8 (replaced by U+FFFD).
std::string json_string(std::string_view bytes);

}  // namespace weft::serve
