// The generation engine: a GPT with per-layer KV caches, serving many requests at once
// by continuous batching. Works on token ids only (tokenisation is the caller's job;
// stop strings are checked through a caller-supplied token→bytes function).
//
// Threads: ONE thread owns an Engine (constructs it, calls step()/run()/generate()).
// submit(), cancel flags and stop() may be used from any thread. Callbacks of a
// request (on_token, on_done) run on the owner thread, between decode steps: keep
// them short, never throw from them, and never call the engine's owner-thread
// methods from them (submit() and setting cancel flags are fine).
// Each step admits queued requests into free slots (their prompt is prefilled in
// the same forward pass as the running requests' next tokens), then samples one
// token for every running request.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/aligned_buffer.hpp"
#include "infer/sampling.hpp"
#include "kernels/cpu/matmul_bf16.hpp"
#include "model/gpt_config.hpp"

namespace weft::infer {

class KvDecoder;

enum class FinishReason { kStop, kLength, kCancelled, kError };
// "stop", "length", "cancelled", "error" (the OpenAI finish_reason strings).
const char* finish_reason_name(FinishReason reason);

struct Usage {
  int prompt_tokens = 0;
  int completion_tokens = 0;  // generated tokens, stop sequence included
  int total_tokens = 0;
};

struct GenerationResult {
  std::vector<std::int32_t> tokens;  // generated tokens, the matched stop sequence removed
  std::vector<float> logprobs;       // per token of `tokens`, when request.logprobs (raw
                                     // model distribution, before penalty/temperature)
  FinishReason finish = FinishReason::kLength;
  Usage usage;
  std::string error;                 // why, when finish == kError (e.g. prompt too long)
  double time_to_first_token_s = 0;  // submit → first token sampled
  double total_time_s = 0;           // submit → finished
};

struct GenerationRequest {
  std::vector<std::int32_t> prompt;  // >= 1 token; prompt + max_tokens <= engine max_seq
  SamplingParams sampling;
  int max_tokens = 256;  // generated tokens at most (>= 1)
  // Generation stops when the output ends with one of these token sequences...
  std::vector<std::vector<std::int32_t>> stop_tokens;
  // ...or when the output's text contains one of these strings. Needs token_text.
  std::vector<std::string> stop_strings;
  // Bytes of one token (e.g. Tokenizer::token_bytes); concatenation = decoded text.
  std::function<std::string(std::int32_t)> token_text;
  // Streaming: called once per output token, in order, on the owner thread. Tokens
  // that might still turn out to be part of a stop sequence are held back until
  // that is decided, so a stop sequence is never streamed.
  std::function<void(std::int32_t token)> on_token;
  // Called exactly once when the request finishes (any reason), on the owner thread,
  // before the future returned by submit() becomes ready.
  std::function<void(const GenerationResult&)> on_done;
  // Set to true from any thread to stop the request at the next step (finish
  // "cancelled"; the tokens so far are kept). May be null.
  std::shared_ptr<std::atomic<bool>> cancel;
  bool logprobs = false;  // fill GenerationResult::logprobs
};

struct EngineOptions {
  int max_batch = 8;     // KV-cache slots = requests decoded at once
  int max_seq = 0;       // tokens per slot (prompt + output); 0 = the model's max_seq
  int max_queue = 1024;  // submit() beyond this many waiting requests fails the request
  // Matmul operands (docs/precision.md); bf16 falls back to fp32 with a notice on CPUs
  // without native bf16.
  cpu::Precision precision = cpu::Precision::kFp32;
};

struct EngineStats {
  long steps = 0;             // forward passes run
  long tokens_generated = 0;  // over all requests
  long prefill_tokens = 0;
  int running = 0;  // requests in slots now
  int queued = 0;   // waiting for a slot
};

class Engine {
 public:
  // Copies `params` (config.num_params() floats, ParamLayout order). Allocates the KV
  // cache (2·L·max_batch·max_seq·C floats) and scratch once.
  Engine(const model::GptConfig& config, const float* params, const EngineOptions& options);
  // An llm.c `.bin` GPT-2 checkpoint (model/llmc_checkpoint.hpp).
  static std::unique_ptr<Engine> from_llmc(const std::string& path, const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const model::GptConfig& config() const { return config_; }
  int max_batch() const { return options_.max_batch; }
  int max_seq() const { return max_seq_; }

  // --- any thread ---
  // Queues a request; it joins the running batch at the next step. An invalid request
  // (empty prompt, token id out of range, too long, bad params) finishes with
  // FinishReason::kError and a message instead of throwing (at the next step, on the
  // owner thread). Only when the queue is full does the request fail at once, with
  // its on_done called on the submitting thread.
  std::future<GenerationResult> submit(GenerationRequest request);
  // Makes run() return once no request is running or queued (after draining).
  void stop();
  EngineStats stats() const;

  // --- owner thread only ---
  // One scheduling step: admit queued requests into free slots, run one forward pass
  // (prefills + one decode token each), sample, stream, finish. Returns false when
  // there was nothing to do.
  bool step();
  // Steps until stop() is called and all work is done; sleeps while idle.
  void run();
  // Synchronous helpers: submit all, step until every one finished (requests beyond
  // max_batch wait for a slot). Must not be called while run() is running.
  GenerationResult generate(GenerationRequest request);
  std::vector<GenerationResult> generate_batch(std::vector<GenerationRequest> requests);
  // Replaces the weights (PPO after each policy update). No request may be running.
  void update_params(const float* params);

 private:
  struct Active;
  struct Pending {
    GenerationRequest request;
    std::promise<GenerationResult> promise;
    double submit_time = 0;
  };
  std::string validate(const GenerationRequest& r) const;  // "" when fine
  void admit();
  void finish(int slot, FinishReason reason, std::string error = {});
  void release_held(Active& a, std::size_t upto);
  bool check_stop(Active& a);

  model::GptConfig config_;
  EngineOptions options_;
  int max_seq_ = 0;
  AlignedBuffer<float> params_;  // (num_params) the engine's copy of the weights
  std::unique_ptr<KvDecoder> decoder_;
  std::vector<std::unique_ptr<Active>> slots_;  // (max_batch), null = free

  mutable std::mutex mutex_;  // guards queue_, stop_requested_
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stop_requested_ = false;
  std::atomic<long> steps_{0}, tokens_generated_{0}, prefill_tokens_{0};
  std::atomic<int> running_{0};
};

}  // namespace weft::infer
