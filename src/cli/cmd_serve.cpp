// `weft serve`: parses options, loads the tokenizer and the model, runs the OpenAI-
// compatible HTTP server (serve/server.hpp) until SIGINT/SIGTERM. Main thread only.
#include <csignal>
#include <cstdio>
#include <memory>

#include "cli/command_registry.hpp"
#include "cli/precision_option.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "data/tokenizer.hpp"
#include "serve/serve_model.hpp"
#include "serve/server.hpp"

namespace {

struct Options {
  std::string model, tokenizer = "gpt2";
  weft::serve::ServerOptions server;
  int max_batch = 8;
  int context = 0;
  std::uint64_t seed = 1234;
  std::size_t max_body_kib = 1024;
  std::string precision = "fp32";
};

int run_serve(const Options& o) {
  // Block the stop signals before any thread starts, so every thread inherits the
  // mask and only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up is not fatal

  weft::data::Tokenizer tok = weft::data::tokenizer_load_spec(o.tokenizer);
  weft::serve::ModelSpec spec{o.model, static_cast<int>(tok.vocab_size()),
                              o.model == "random" && o.context == 0 ? 256 : o.context, o.seed};
  weft::infer::EngineOptions eo;
  eo.max_batch = o.max_batch;
  eo.max_queue = o.server.max_concurrent + 16;
  eo.precision = weft::cpu::parse_precision(o.precision);
  auto engine = weft::serve::serve_load_engine(spec, eo);
  const std::string describe = engine->config().describe();
  weft::serve::ServerOptions so = o.server;
  so.max_body_bytes = o.max_body_kib * 1024;
  weft::serve::Server server(std::move(engine), std::move(tok), so);
  const int port = server.start();
  // The first line on stdout: scripts and tests read the port from it.
  std::printf("weft serve: listening on http://%s:%d (model '%s': %s, context %d)\n",
              so.host.c_str(), port, so.model_name.c_str(), describe.c_str(),
              server.context_length());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  weft::log_info("serve: signal ", sig, ", stopping");
  server.stop();
  return 0;
}

std::function<int()> setup_serve(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("--model", o->model,
                 "llm.c .bin checkpoint, or 'random' (a tiny random GPT for trying the API)")
      ->required();
  app.add_option(
         "--tokenizer", o->tokenizer,
         "gpt2 (GPT-2's files), a weft tokenizer .json, a folder with encoder.json + vocab.bpe, "
         "or a tiktoken rank file")
      ->capture_default_str();
  app.add_option("--host", o->server.host, "address to bind (loopback by default)")
      ->capture_default_str();
  app.add_option("--port", o->server.port, "TCP port; 0 = any free port (printed)")
      ->capture_default_str();
  app.add_option("--api-key", o->server.api_key, "require 'Authorization: Bearer <key>' on /v1/*");
  app.add_option("--name", o->server.model_name, "model id clients must send")
      ->capture_default_str();
  app.add_option("--context", o->context, "tokens per sequence (0 = the model's; 256 for random)");
  app.add_option("--max-batch", o->max_batch, "sequences decoded together")->capture_default_str();
  app.add_option("--max-concurrent", o->server.max_concurrent, "requests in flight before 429")
      ->capture_default_str();
  app.add_option("--max-body-kib", o->max_body_kib, "request body limit in KiB (413 above)")
      ->capture_default_str();
  app.add_option("--default-max-tokens", o->server.default_max_tokens,
                 "max_tokens when a request gives none")
      ->capture_default_str();
  app.add_option("--seed", o->seed, "init seed of --model random")->capture_default_str();
  weft::cli::add_precision_option(app, &o->precision);
  app.add_flag("--log-requests", o->server.log_requests, "log one line per request");
  return [o] { return run_serve(*o); };
}

WEFT_COMMAND("serve", "OpenAI-compatible HTTP API and web chat for a model", 700, setup_serve);

}  // namespace
