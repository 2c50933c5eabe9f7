// `weft serve`: an OpenAI-compatible HTTP server over the generation engine, split as
// llama.cpp's server is: the HTTP layer (cpp-httplib's thread pool) only authenticates,
// parses/validates (serve/api_request.hpp), queues work and streams; the engine's queue
// is the task queue; ONE thread, owned by the Server, runs the engine (Engine::run).
// The Server owns the engine, the tokenizer and every thread. start()/stop() are for
// the thread that created it; port()/stats() from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "data/tokenizer.hpp"
#include "infer/engine.hpp"

namespace httplib {
class Server;
}

namespace weft::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";        // loopback only unless asked
  int port = 8080;                       // 0 = any free port (see Server::port())
  std::string api_key;                   // non-empty: /v1/* need "Authorization: Bearer <key>"
  std::string model_name = "weft";       // the id in /v1/models; requests must name it
  std::size_t max_body_bytes = 1 << 20;  // larger bodies → 413
  int max_concurrent = 64;               // requests being generated or queued; more → 429
  int default_max_tokens = 256;          // when a request gives none (capped by the context)
  int http_threads = 0;                  // 0 = max_concurrent + 16 (a stream holds a thread)
  bool log_requests = false;             // one info line per request
};

struct ServerStats {
  long requests = 0;  // HTTP requests answered
  long errors = 0;    // of which 4xx/5xx
  int active = 0;     // generation requests in flight now
};

class Server {
 public:
  // Takes ownership of the engine and the tokenizer. The tokenizer's ids must lie
  // within the model's vocabulary (checked: weft::Error (config) otherwise).
  Server(std::unique_ptr<infer::Engine> engine, data::Tokenizer tokenizer, ServerOptions options);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds (weft::Error (io) naming host:port when it cannot), starts the engine thread
  // and the HTTP listener. Returns the bound port.
  int start();
  // Stops listening, cancels nothing queued (running requests finish), joins threads.
  // Idempotent.
  void stop();

  int port() const { return port_.load(); }
  const ServerOptions& options() const { return options_; }
  int context_length() const;
  ServerStats stats() const;

  struct Impl;  // the handlers (serve/server.cpp)

 private:
  ServerOptions options_;
  std::unique_ptr<infer::Engine> engine_;
  data::Tokenizer tokenizer_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<Impl> impl_;
  std::thread engine_thread_, http_thread_;
  std::atomic<int> port_{0};
  std::mutex stop_mutex_;
  bool started_ = false, stopped_ = false;
};

}  // namespace weft::serve
