// The HTTP layer of `weft serve` (see server.hpp): routes, auth, limits, and the bridge
// from engine callbacks (engine thread) to responses (HTTP threads). A streaming
// response waits on its StreamState; the engine thread only appends token ids to it.
#include "serve/server.hpp"

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <random>

#include <sys/socket.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/log.hpp"
#include "data/chat_template.hpp"
#include "serve/api_error.hpp"
#include "serve/api_request.hpp"
#include "serve/api_response.hpp"
#include "serve/web_page.hpp"

namespace weft::serve {
namespace {

// Tokens of one streaming request, handed from the engine thread to its HTTP thread.
struct StreamState {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::int32_t> tokens;  // produced, not yet sent
  bool done = false;
  infer::GenerationResult result;  // valid once done
};

}  // namespace

// httplib listens with a backlog of 5, so a burst of clients (64 at once in the load
// test) overflows the accept queue; listen() again on the bound socket raises it.
class HttpServer : public httplib::Server {
 public:
  void raise_backlog() { ::listen(svr_sock_.load(), SOMAXCONN); }
};

struct Server::Impl {
  Server& server;
  std::int64_t started_at = std::time(nullptr);
  std::atomic<int> active{0};
  std::atomic<long> requests{0}, errors{0}, next_id{1};
  std::uint64_t id_salt = std::random_device{}();

  explicit Impl(Server& s) : server(s) {}

  // Holds one of max_concurrent places for as long as it lives.
  struct Slot {
    std::atomic<int>* active = nullptr;
    explicit Slot(std::atomic<int>* a) : active(a) {}
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() {
      if (active) active->fetch_sub(1);
    }
  };
  std::shared_ptr<Slot> acquire_slot() {
    const int limit = server.options_.max_concurrent;
    int cur = active.load();
    do {
      if (cur >= limit)
        throw ApiError(
            429, str("the server is busy: ", limit, " requests are already in flight; retry later"),
            "rate_limit_exceeded", "", "rate_limit_exceeded");
    } while (!active.compare_exchange_weak(cur, cur + 1));
    return std::make_shared<Slot>(&active);
  }

  void check_auth(const httplib::Request& req) const {
    const std::string& key = server.options_.api_key;
    if (key.empty()) return;
    const std::string h = req.get_header_value("Authorization");
    if (h != "Bearer " + key)
      throw ApiError(401,
                     h.empty() ? "missing API key: send 'Authorization: Bearer <key>'"
                               : "incorrect API key provided",
                     "invalid_request_error", "", "invalid_api_key");
  }

  static void send_error(httplib::Response& res, const ApiError& e) {
    res.status = e.status();
    res.set_content(e.body(), "application/json");
  }

  std::string make_id(ApiKind kind) {
    char buf[32];
    std::snprintf(
        buf, sizeof buf, "%016llx",
        static_cast<unsigned long long>(id_salt ^ (next_id.fetch_add(1) * 0x9E3779B97F4A7C15ull)));
    return std::string(kind == ApiKind::kChat ? "chatcmpl-" : "cmpl-") + buf;
  }

  // Tokens of the request's prompt (chat template or plain text).
  std::vector<std::int32_t> prompt_tokens(const ApiRequest& r) const {
    const data::Tokenizer& tok = server.tokenizer_;
    std::vector<std::uint32_t> ids =
        r.kind == ApiKind::kChat ? data::chat_render_prompt(tok, r.messages) : tok.encode(r.prompt);
    if (ids.empty()) ids.push_back(tok.eot_id());  // an empty prompt starts a new document
    return {ids.begin(), ids.end()};
  }

  infer::GenerationRequest make_generation(const ApiRequest& r,
                                           std::vector<std::int32_t> prompt) const {
    const data::Tokenizer& tok = server.tokenizer_;
    const int ctx = server.context_length();
    const int n_prompt = static_cast<int>(prompt.size());
    int max_tokens = 0;
    if (r.max_tokens) {
      max_tokens = *r.max_tokens;
      if (n_prompt + max_tokens > ctx)
        throw ApiError(400,
                       str("this model's context holds ", ctx, " tokens; the request asks for ",
                           n_prompt, " prompt tokens + ", max_tokens, " max_tokens = ",
                           n_prompt + max_tokens, ". Shorten the prompt or lower max_tokens."),
                       "invalid_request_error", "max_tokens", "context_length_exceeded");
    } else {
      if (n_prompt >= ctx)
        throw ApiError(400,
                       str("this model's context holds ", ctx, " tokens; the prompt alone has ",
                           n_prompt, ". Shorten the prompt."),
                       "invalid_request_error", r.kind == ApiKind::kChat ? "messages" : "prompt",
                       "context_length_exceeded");
      max_tokens = std::min(server.options_.default_max_tokens, ctx - n_prompt);
    }
    infer::GenerationRequest g;
    g.prompt = std::move(prompt);
    g.max_tokens = max_tokens;
    g.sampling.temperature = r.temperature;
    g.sampling.top_p = r.top_p;
    g.sampling.top_k = r.top_k;
    g.sampling.repetition_penalty = r.repetition_penalty;
    g.sampling.seed = r.seed ? *r.seed : std::random_device{}();
    const data::SpecialIds sp = tok.special_ids();
    g.stop_tokens.push_back({static_cast<std::int32_t>(sp.endoftext)});
    if (r.kind == ApiKind::kChat) g.stop_tokens.push_back({static_cast<std::int32_t>(sp.end)});
    g.stop_strings = r.stop;
    g.token_text = [&tok](std::int32_t id) {
      return std::string(tok.token_bytes(static_cast<std::uint32_t>(id)));
    };
    g.cancel = std::make_shared<std::atomic<bool>>(false);
    return g;
  }

  std::string decode(const std::vector<std::int32_t>& ids) const {
    std::string out;
    for (std::int32_t id : ids)
      out += server.tokenizer_.token_bytes(static_cast<std::uint32_t>(id));
    return out;
  }

  void handle_generate(const httplib::Request& req, httplib::Response& res, ApiKind kind) {
    check_auth(req);
    ApiRequest r = parse_api_request(req.body, kind);
    if (r.model != server.options_.model_name)
      throw ApiError(404,
                     str("the model '", r.model, "' does not exist; this server serves '",
                         server.options_.model_name, "' (see GET /v1/models)"),
                     "invalid_request_error", "model", "model_not_found");
    infer::GenerationRequest g = make_generation(r, prompt_tokens(r));
    std::shared_ptr<Slot> slot = acquire_slot();
    ResponseMeta meta{kind, make_id(kind), static_cast<std::int64_t>(std::time(nullptr)), r.model};
    if (!r.stream) {
      infer::GenerationResult out = server.engine_->submit(std::move(g)).get();
      if (out.finish == infer::FinishReason::kError)
        throw ApiError(500, "generation failed: " + out.error, "server_error", "",
                       "generation_failed");
      res.set_content(completion_body(meta, decode(out.tokens),
                                      infer::finish_reason_name(out.finish), out.usage),
                      "application/json");
      return;
    }
    stream(res, std::move(g), std::move(meta), r.include_usage, std::move(slot));
  }

  void stream(httplib::Response& res, infer::GenerationRequest g, ResponseMeta meta,
              bool include_usage, std::shared_ptr<Slot> slot) {
    auto state = std::make_shared<StreamState>();
    std::shared_ptr<std::atomic<bool>> cancel = g.cancel;
    g.on_token = [state](std::int32_t t) {
      std::lock_guard<std::mutex> lock(state->mutex);
      state->tokens.push_back(t);
      state->cv.notify_one();
    };
    g.on_done = [state](const infer::GenerationResult& out) {
      std::lock_guard<std::mutex> lock(state->mutex);
      state->result = out;
      state->done = true;
      state->cv.notify_one();
    };
    server.engine_->submit(std::move(g));  // the future is not needed: on_done reports
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    auto pending = std::make_shared<std::string>();  // bytes held back mid-UTF-8 character
    auto first = std::make_shared<bool>(true);
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, state, pending, first, meta, include_usage](std::size_t, httplib::DataSink& sink) {
          std::vector<std::int32_t> tokens;
          bool done = false;
          infer::GenerationResult result;
          {
            std::unique_lock<std::mutex> lock(state->mutex);
            state->cv.wait_for(lock, std::chrono::milliseconds(200),
                               [&] { return state->done || !state->tokens.empty(); });
            tokens.swap(state->tokens);
            done = state->done;
            if (done) result = state->result;
          }
          if (!sink.is_writable()) return false;  // client gone: the releaser cancels
          *pending += decode(tokens);
          std::string frames;
          const std::size_t n = done ? pending->size() : utf8_complete_prefix(*pending);
          if (n > 0 || (*first && meta.kind == ApiKind::kChat)) {
            frames += chunk_frame(meta, std::string_view(*pending).substr(0, n), *first, nullptr);
            pending->erase(0, n);
            *first = false;
          }
          if (done) {
            if (result.finish == infer::FinishReason::kError) {
              frames += error_frame("generation failed: " + result.error);
            } else {
              frames += chunk_frame(meta, {}, false, infer::finish_reason_name(result.finish));
              if (include_usage) frames += usage_frame(meta, result.usage);
            }
            frames += kDoneFrame;
          }
          if (!frames.empty() && !sink.write(frames.data(), frames.size())) return false;
          if (done) sink.done();
          return true;
        },
        [cancel, slot](bool success) {
          if (!success) cancel->store(true);  // disconnect mid-stream: stop generating
          // `slot` is released when the last copy of this releaser goes.
        });
  }

  // Wraps a handler: ApiError → its JSON; anything else → 500 JSON; counts requests.
  template <class F>
  httplib::Server::Handler guarded(F f) {
    return [this, f](const httplib::Request& req, httplib::Response& res) {
      try {
        f(req, res);
      } catch (const ApiError& e) {
        send_error(res, e);
      } catch (const std::exception& e) {
        log_error("serve: ", req.method, " ", req.path, ": ", e.what());
        send_error(res, ApiError(500, str("internal error: ", e.what()), "server_error"));
      }
    };
  }

  void install_routes(httplib::Server& http) {
    http.Get("/", guarded([](const httplib::Request&, httplib::Response& res) {
               const std::string_view page = web_chat_html();
               res.set_content(page.data(), page.size(), "text/html; charset=utf-8");
             }));
    http.Get("/health", guarded([this](const httplib::Request&, httplib::Response& res) {
               const infer::EngineStats s = server.engine_->stats();
               nlohmann::json j{
                   {"status", "ok"},          {"model", server.options_.model_name},
                   {"active", active.load()}, {"running", s.running},
                   {"queued", s.queued},      {"tokens_generated", s.tokens_generated}};
               res.set_content(j.dump(), "application/json");
             }));
    http.Get("/v1/models", guarded([this](const httplib::Request& req, httplib::Response& res) {
               check_auth(req);
               nlohmann::json model{{"id", server.options_.model_name},
                                    {"object", "model"},
                                    {"created", started_at},
                                    {"owned_by", "weft"},
                                    {"context_length", server.context_length()}};
               nlohmann::json j{{"object", "list"}, {"data", nlohmann::json::array({model})}};
               res.set_content(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                               "application/json");
             }));
    http.Post("/v1/chat/completions",
              guarded([this](const httplib::Request& req, httplib::Response& res) {
                handle_generate(req, res, ApiKind::kChat);
              }));
    http.Post("/v1/completions",
              guarded([this](const httplib::Request& req, httplib::Response& res) {
                handle_generate(req, res, ApiKind::kCompletion);
              }));
    // Errors httplib produces itself (no route, body over the limit, bad HTTP) get the
    // same JSON shape as ours; responses that already carry a body are left alone.
    http.set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request& req, httplib::Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          std::string message = str("HTTP ", res.status);
          std::string code;
          if (res.status == 404) {
            message = str("no route for ", req.method, " ", req.path);
            code = "not_found";
          } else if (res.status == 413) {
            message = "the request body is too large";
            code = "request_too_large";
          } else if (res.status == 405) {
            message = str("method ", req.method, " not allowed on ", req.path);
          }
          send_error(res, ApiError(res.status, message, "invalid_request_error", "", code));
          return httplib::Server::HandlerResponse::Handled;
        }));
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      requests.fetch_add(1);
      if (res.status >= 400) errors.fetch_add(1);
      if (server.options_.log_requests)
        log_info("serve: ", req.method, " ", req.path, " ", res.status);
    });
  }
};

Server::Server(std::unique_ptr<infer::Engine> engine, data::Tokenizer tokenizer,
               ServerOptions options)
    : options_(std::move(options)), engine_(std::move(engine)), tokenizer_(std::move(tokenizer)) {
  WEFT_CHECK(engine_ != nullptr);
  if (static_cast<long>(tokenizer_.vocab_size()) > engine_->config().vocab)
    throw config_error(str("the tokenizer has ", tokenizer_.vocab_size(),
                           " tokens but the model's vocabulary holds ", engine_->config().vocab),
                       "serve a model trained with this tokenizer");
  if (options_.max_concurrent < 1) throw input_error("--max-concurrent must be >= 1");
  if (options_.default_max_tokens < 1) throw input_error("--default-max-tokens must be >= 1");
  impl_ = std::make_unique<Impl>(*this);
}

Server::~Server() {
  stop();
}

int Server::context_length() const {
  return engine_->max_seq();
}

ServerStats Server::stats() const {
  return {impl_->requests.load(), impl_->errors.load(), impl_->active.load()};
}

int Server::start() {
  std::lock_guard<std::mutex> lock(stop_mutex_);
  WEFT_CHECK(!started_, "Server::start called twice");
  auto http = std::make_unique<HttpServer>();
  HttpServer* raw = http.get();
  http_ = std::move(http);
  const int threads =
      options_.http_threads > 0 ? options_.http_threads : options_.max_concurrent + 16;
  http_->new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<std::size_t>(threads));
  };
  http_->set_payload_max_length(options_.max_body_bytes);
  http_->set_keep_alive_timeout(2);
  impl_->install_routes(*http_);
  int port = options_.port;
  if (port == 0) {
    port = http_->bind_to_any_port(options_.host);
    if (port < 0) throw io_error(str("cannot bind an HTTP port on ", options_.host));
  } else if (!http_->bind_to_port(options_.host, port)) {
    throw io_error(str("cannot listen on ", options_.host, ":", port),
                   "is another server using the port? pick one with --port");
  }
  raw->raise_backlog();
  port_.store(port);
  engine_thread_ = std::thread([this] { engine_->run(); });
  http_thread_ = std::thread([this] { http_->listen_after_bind(); });
  started_ = true;
  return port;
}

void Server::stop() {
  std::lock_guard<std::mutex> lock(stop_mutex_);
  if (!started_ || stopped_) return;
  stopped_ = true;
  http_->stop();  // open streams end when their requests finish
  if (http_thread_.joinable()) http_thread_.join();
  engine_->stop();
  if (engine_thread_.joinable()) engine_thread_.join();
}

}  // namespace weft::serve
