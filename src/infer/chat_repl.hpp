// `weft chat`: a terminal conversation with a model. Reads lines from `in` (user turns
// and /commands), streams the reply's bytes to `out` as they are generated, keeps the
// history (rendered with data/chat_template), trims the oldest turns when the context
// is full. `interrupt` (set by the caller's SIGINT handler) stops the current reply
// without leaving. Runs on the calling thread, which owns the engine.
#pragma once

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace weft::infer {

struct ChatReplOptions {
  std::string model;               // llm.c .bin checkpoint
  std::string tokenizer = "gpt2";  // data::tokenizer_load_spec
  std::string system;              // initial system message ("" = none)
  float temperature = 0.8f;
  int top_k = 40;
  float top_p = 0.95f;
  float repetition_penalty = 1.1f;
  int max_tokens = 256;
  std::uint64_t seed = 1;  // request i uses seed + i
  int max_seq = 0;         // context (0 = the model's)
  int threads = 0;         // 0 = OpenMP default
  std::string precision = "fp32";  // matmul operands: fp32 | bf16 (docs/precision.md)
  bool prompts = true;     // print "you> " before reading a line
};

// Returns the exit code (0 on end of input or /quit). Throws weft::Error on a bad
// model/tokenizer (a tokenizer with more ids than the model's vocabulary included).
int chat_repl(const ChatReplOptions& options, std::istream& in, std::ostream& out,
              std::atomic<bool>* interrupt);

}  // namespace weft::infer
