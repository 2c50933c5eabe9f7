// Continuous-batching generation engine (see engine.hpp). Per step: admit queued
// requests into free slots, pack every running request's rows (a whole prompt for a
// new one, its last token otherwise) into one KvDecoder::forward, sample, stream the
// tokens that can no longer be part of a stop sequence, and finish requests.
#include "infer/engine.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.hpp"
#include "infer/kv_decoder.hpp"
#include "model/llmc_checkpoint.hpp"

namespace weft::infer {
namespace {

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kCancelled:
      return "cancelled";
    case FinishReason::kError:
      return "error";
  }
  return "error";
}

// A request in a cache slot.
struct Engine::Active {
  GenerationRequest req;
  std::promise<GenerationResult> promise;
  double submit_time = 0, first_token_time = 0;
  Rng rng{0};
  std::vector<std::int32_t> seen;       // prompt + generated (repetition penalty)
  std::vector<std::int32_t> generated;  // output so far
  std::vector<float> logprobs;          // (generated) when req.logprobs
  std::string text;                     // bytes of generated (when stop_strings)
  std::vector<std::size_t> text_end;    // (generated) byte offset where each token ends
  std::size_t released = 0;             // tokens already passed to on_token
  int completion_tokens = 0;            // sampled tokens (a cut stop sequence included)
  int pos = 0;                          // tokens in the cache
  bool prefilled = false;
};

Engine::Engine(const model::GptConfig& config, const float* params, const EngineOptions& options)
    : config_(config), options_(options) {
  config_.validate();
  max_seq_ = options.max_seq > 0 ? options.max_seq : config_.max_seq;
  if (options.max_batch < 1)
    throw config_error(str("engine: max_batch must be >= 1 (got ", options.max_batch, ")"));
  if (max_seq_ < 2 || max_seq_ > config_.max_seq)
    throw config_error(str("engine: max_seq ", max_seq_, " must be in [2, ", config_.max_seq,
                           "] (the model's context)"));
  params_.allocate(config_.num_params(), false);
  std::copy_n(params, params_.size(), params_.data());
  decoder_ = std::make_unique<KvDecoder>(config_, params_.data(), options.max_batch, max_seq_,
                                         max_seq_ + options.max_batch);
  decoder_->set_precision(options.precision);
  slots_.resize(options.max_batch);
}

std::unique_ptr<Engine> Engine::from_llmc(const std::string& path, const EngineOptions& options) {
  model::LlmcModel m = model::llmc_load_model(path);
  return std::make_unique<Engine>(m.config, m.params.data(), options);
}

Engine::~Engine() = default;

void Engine::update_params(const float* params) {
  WEFT_CHECK(running_.load() == 0, "update_params while requests are running");
  std::copy_n(params, params_.size(), params_.data());
  decoder_->set_params(params_.data());  // the bf16 copy is stale now
}

std::future<GenerationResult> Engine::submit(GenerationRequest request) {
  Pending p{std::move(request), {}, now_s()};
  std::future<GenerationResult> fut = p.promise.get_future();
  std::unique_lock<std::mutex> lock(mutex_);
  if (static_cast<int>(queue_.size()) >= options_.max_queue) {
    lock.unlock();
    GenerationResult r;
    r.finish = FinishReason::kError;
    r.error = str("the engine's queue is full (", options_.max_queue, " requests waiting)");
    if (p.request.on_done) p.request.on_done(r);
    p.promise.set_value(std::move(r));
    return fut;
  }
  queue_.push_back(std::move(p));
  lock.unlock();
  cv_.notify_all();
  return fut;
}

void Engine::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_requested_ = true;
  }
  cv_.notify_all();
}

EngineStats Engine::stats() const {
  EngineStats s;
  s.steps = steps_.load();
  s.tokens_generated = tokens_generated_.load();
  s.prefill_tokens = prefill_tokens_.load();
  s.running = running_.load();
  std::lock_guard<std::mutex> lock(mutex_);
  s.queued = static_cast<int>(queue_.size());
  return s;
}

std::string Engine::validate(const GenerationRequest& r) const {
  if (r.prompt.empty()) return "the prompt is empty (need at least one token)";
  for (std::size_t i = 0; i < r.prompt.size(); ++i)
    if (r.prompt[i] < 0 || r.prompt[i] >= config_.vocab)
      return str("prompt token ", i, " has id ", r.prompt[i],
                 ", outside the model's vocabulary [0, ", config_.vocab, ")");
  if (static_cast<int>(r.prompt.size()) >= max_seq_)
    return str("the prompt has ", r.prompt.size(), " tokens; the context holds ", max_seq_,
               " (prompt + at least one generated token)");
  if (r.max_tokens < 1) return str("max_tokens must be >= 1 (got ", r.max_tokens, ")");
  const SamplingParams& s = r.sampling;
  if (!(s.temperature >= 0.0f) || !std::isfinite(s.temperature))
    return str("temperature must be >= 0 (got ", s.temperature, ")");
  if (s.top_k < 0) return str("top_k must be >= 0 (got ", s.top_k, ")");
  if (!(s.top_p > 0.0f)) return str("top_p must be > 0 (got ", s.top_p, ")");
  if (!(s.repetition_penalty > 0.0f))
    return str("repetition_penalty must be > 0 (got ", s.repetition_penalty, ")");
  if (!r.stop_strings.empty() && !r.token_text) return "stop strings need a token_text function";
  for (const auto& st : r.stop_tokens)
    if (st.empty()) return "a stop token sequence is empty";
  for (const auto& st : r.stop_strings)
    if (st.empty()) return "a stop string is empty";
  return {};
}

// Moves queued requests into free slots (owner thread). Invalid or already-cancelled
// requests finish here without taking a slot.
void Engine::admit() {
  for (std::size_t slot = 0; slot < slots_.size(); ++slot) {
    if (slots_[slot]) continue;
    Pending p;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (queue_.empty()) return;
      p = std::move(queue_.front());
      queue_.pop_front();
    }
    auto a = std::make_unique<Active>();
    a->req = std::move(p.request);
    a->promise = std::move(p.promise);
    a->submit_time = p.submit_time;
    a->rng = Rng(a->req.sampling.seed);
    a->seen = a->req.prompt;
    slots_[slot] = std::move(a);
    running_.fetch_add(1);
    const std::string err = validate(slots_[slot]->req);
    if (!err.empty()) {
      finish(static_cast<int>(slot), FinishReason::kError, err);
    } else if (slots_[slot]->req.cancel && slots_[slot]->req.cancel->load()) {
      finish(static_cast<int>(slot), FinishReason::kCancelled);
    }
    if (!slots_[slot]) --slot;  // the slot is free again: try the next queued request
  }
}

void Engine::release_held(Active& a, std::size_t upto) {
  upto = std::min(upto, a.generated.size());
  for (; a.released < upto; ++a.released)
    if (a.req.on_token) a.req.on_token(a.generated[a.released]);
}

void Engine::finish(int slot, FinishReason reason, std::string error) {
  std::unique_ptr<Active> a = std::move(slots_[slot]);
  running_.fetch_sub(1);
  GenerationResult r;
  r.finish = reason;
  r.error = std::move(error);
  r.usage.prompt_tokens = static_cast<int>(a->req.prompt.size());
  r.usage.completion_tokens = a->completion_tokens;
  r.usage.total_tokens = r.usage.prompt_tokens + r.usage.completion_tokens;
  release_held(*a, a->generated.size());
  r.tokens = std::move(a->generated);
  if (a->req.logprobs) {
    a->logprobs.resize(r.tokens.size());
    r.logprobs = std::move(a->logprobs);
  }
  const double t = now_s();
  r.total_time_s = t - a->submit_time;
  r.time_to_first_token_s = a->first_token_time > 0 ? a->first_token_time - a->submit_time : 0.0;
  if (a->req.on_done) a->req.on_done(r);
  a->promise.set_value(std::move(r));
}

// After a new token: true when a stop sequence completed (then `generated` is cut
// before it). Otherwise streams the tokens that no stop sequence can still claim.
bool Engine::check_stop(Active& a) {
  const std::vector<std::int32_t>& g = a.generated;
  std::size_t hold = 0;  // trailing tokens that may start a stop sequence
  for (const auto& st : a.req.stop_tokens) {
    if (g.size() >= st.size() && std::equal(st.begin(), st.end(), g.end() - st.size())) {
      a.generated.resize(g.size() - st.size());
      return true;
    }
    for (std::size_t k = std::min(st.size() - 1, g.size()); k > hold; --k)
      if (std::equal(st.begin(), st.begin() + k, g.end() - k)) {
        hold = k;
        break;
      }
  }
  if (!a.req.stop_strings.empty()) {
    const std::size_t old_size = a.text.size();
    a.text += a.req.token_text(g.back());
    a.text_end.push_back(a.text.size());
    std::size_t hold_bytes = 0;
    for (const std::string& st : a.req.stop_strings) {
      // Only a match that uses the new bytes is new.
      const std::size_t from = old_size >= st.size() ? old_size - st.size() + 1 : 0;
      const std::size_t at = a.text.find(st, from);
      if (at != std::string::npos) {
        // Keep the tokens that end at or before the stop string starts.
        std::size_t keep = 0;
        while (keep < a.text_end.size() && a.text_end[keep] <= at) ++keep;
        a.generated.resize(keep);
        return true;
      }
      for (std::size_t k = std::min(st.size() - 1, a.text.size()); k > hold_bytes; --k)
        if (a.text.compare(a.text.size() - k, k, st, 0, k) == 0) {
          hold_bytes = k;
          break;
        }
    }
    if (hold_bytes > 0) {
      const std::size_t limit = a.text.size() - hold_bytes;
      std::size_t free_tokens = 0;
      while (free_tokens < a.text_end.size() && a.text_end[free_tokens] <= limit) ++free_tokens;
      hold = std::max(hold, g.size() - free_tokens);
    }
  }
  release_held(a, g.size() - hold);
  return false;
}

bool Engine::step() {
  admit();
  // Cancellations first: a cancelled request takes no more compute.
  for (std::size_t s = 0; s < slots_.size(); ++s)
    if (slots_[s] && slots_[s]->req.cancel && slots_[s]->req.cancel->load())
      finish(static_cast<int>(s), FinishReason::kCancelled);

  std::vector<DecodeChunk> chunks;
  std::vector<int> chunk_slot;
  int rows = 0;
  // Decodes first (one row each, always fit), then the prefills that fit what is left:
  // a prefill packed before later decodes could push the step past max_rows.
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t s = 0; s < slots_.size(); ++s) {
      Active* a = slots_[s].get();
      if (!a || a->prefilled != (pass == 0)) continue;
      DecodeChunk ch;
      ch.slot = static_cast<int>(s);
      if (!a->prefilled) {
        const int n = static_cast<int>(a->req.prompt.size());
        if (rows + n > decoder_->max_rows()) continue;  // prefill at a later step
        ch.start = 0;
        ch.tokens = a->req.prompt.data();
        ch.count = n;
      } else {
        ch.start = a->pos;
        ch.tokens = &a->seen.back();  // the last sampled token, not yet in the cache
        ch.count = 1;
      }
      rows += ch.count;
      chunks.push_back(ch);
      chunk_slot.push_back(static_cast<int>(s));
    }
  }
  if (chunks.empty()) return false;

  const std::span<const float> logits = decoder_->forward(chunks);
  steps_.fetch_add(1);
  const int V = config_.vocab, Vp = config_.padded_vocab;
  std::vector<float> row(V);
  const double t = now_s();
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const int s = chunk_slot[i];
    Active& a = *slots_[s];
    if (!a.prefilled) prefill_tokens_.fetch_add(chunks[i].count);
    a.prefilled = true;
    a.pos += chunks[i].count;
    const float* z = logits.data() + i * static_cast<std::size_t>(Vp);
    std::copy_n(z, V, row.data());
    const std::int32_t tok = sample_token(row, a.seen, a.req.sampling, a.rng);
    if (a.req.logprobs)
      a.logprobs.push_back(
          static_cast<float>(token_logprob({z, static_cast<std::size_t>(V)}, tok)));
    if (a.first_token_time == 0) a.first_token_time = t;
    a.generated.push_back(tok);
    a.seen.push_back(tok);
    ++a.completion_tokens;
    tokens_generated_.fetch_add(1);
    if (check_stop(a)) {
      a.logprobs.resize(std::min(a.logprobs.size(), a.generated.size()));
      finish(s, FinishReason::kStop);
    } else if (a.completion_tokens >= a.req.max_tokens ||
               static_cast<int>(a.seen.size()) >= max_seq_) {
      finish(s, FinishReason::kLength);
    }
  }
  return true;
}

void Engine::run() {
  for (;;) {
    if (step()) continue;
    std::unique_lock<std::mutex> lock(mutex_);
    if (!queue_.empty()) continue;
    if (stop_requested_ && running_.load() == 0) {
      stop_requested_ = false;
      return;
    }
    cv_.wait(lock, [&] { return !queue_.empty() || stop_requested_; });
  }
}

GenerationResult Engine::generate(GenerationRequest request) {
  std::vector<GenerationRequest> one;
  one.push_back(std::move(request));
  return std::move(generate_batch(std::move(one)).front());
}

std::vector<GenerationResult> Engine::generate_batch(std::vector<GenerationRequest> requests) {
  std::vector<std::future<GenerationResult>> futures;
  futures.reserve(requests.size());
  for (GenerationRequest& r : requests) futures.push_back(submit(std::move(r)));
  auto all_ready = [&] {
    for (auto& f : futures)
      if (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return false;
    return true;
  };
  while (!all_ready()) step();
  std::vector<GenerationResult> out;
  out.reserve(futures.size());
  for (auto& f : futures) out.push_back(f.get());
  return out;
}

}  // namespace weft::infer
