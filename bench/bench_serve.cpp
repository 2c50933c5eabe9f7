// Load test of `weft serve` over loopback: N concurrent streaming chat requests against
// an in-process server (tiny random GPT, GPT-2 tokenizer) or --url; every request must
// end with 200 and [DONE]. Prints p50/p99 time to first token and tokens/s, and exits 1
// on any failure (tests/serve/tests.cmake runs it with small limits as ServeLoad).
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/tokenizer.hpp"
#include "serve/serve_model.hpp"
#include "serve/server.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Outcome {
  bool ok = false;
  double ttft_s = 0, total_s = 0;
  int tokens = 0;
  std::string error;
};

Outcome one_request(const std::string& host, int port, int max_tokens, int i) {
  Outcome o;
  httplib::Client c(host, port);
  c.set_read_timeout(120, 0);
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/chat/completions";
  req.set_header("Content-Type", "application/json");
  req.body = nlohmann::json{
      {"model", "weft"},
      {"messages", {{{"role", "user"}, {"content", "Request number " + std::to_string(i)}}}},
      {"max_tokens", max_tokens},
      {"stream", true},
      {"stream_options",
       {{"include_usage",
         true}}}}.dump();
  std::string body;
  const auto t0 = Clock::now();
  bool first = true;
  req.content_receiver = [&](const char* data, std::size_t n, std::uint64_t, std::uint64_t) {
    body.append(data, n);
    if (first && body.find("\"content\":\"") != std::string::npos &&
        body.find("\"content\":\"\"") == std::string::npos) {
      o.ttft_s = std::chrono::duration<double>(Clock::now() - t0).count();
      first = false;
    }
    return true;
  };
  httplib::Response res;
  httplib::Error err;
  const bool sent = c.send(req, res, err);
  o.total_s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!sent) {
    o.error = "no response (" + httplib::to_string(err) + ")";
    return o;
  }
  if (res.status != 200) {
    o.error = "HTTP " + std::to_string(res.status) + " " + res.body;
    return o;
  }
  if (body.size() < 14 || body.compare(body.size() - 14, 14, "data: [DONE]\n\n") != 0) {
    o.error = "stream did not end with [DONE]";
    return o;
  }
  const std::size_t u = body.rfind("\"completion_tokens\":");
  if (u != std::string::npos) o.tokens = std::atoi(body.c_str() + u + 20);
  if (first) o.ttft_s = o.total_s;  // no content (finished at once)
  o.ok = true;
  return o;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t k =
      std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  int concurrency = 64, max_tokens = 32, max_batch = 16, rounds = 1;
  std::string url_host, tokenizer = "gpt2";
  int url_port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--concurrency")
      concurrency = std::stoi(v);
    else if (a == "--max-tokens")
      max_tokens = std::stoi(v);
    else if (a == "--max-batch")
      max_batch = std::stoi(v);
    else if (a == "--rounds")
      rounds = std::stoi(v);
    else if (a == "--tokenizer")
      tokenizer = v;
    else if (a == "--port")
      url_port = std::stoi(v), url_host = "127.0.0.1";
    else {
      std::fprintf(
          stderr,
          "usage: bench_serve [--concurrency N] [--max-tokens N] [--max-batch N] [--rounds N] "
          "[--tokenizer SPEC] [--port P (an already running weft serve on 127.0.0.1)]\n");
      return 2;
    }
  }
  std::unique_ptr<weft::serve::Server> server;
  if (url_port == 0) {
    weft::data::Tokenizer tok = weft::data::tokenizer_load_spec(tokenizer);
    weft::infer::EngineOptions eo;
    eo.max_batch = max_batch;
    eo.max_queue = concurrency + 16;
    auto engine =
        weft::serve::serve_load_engine({"random", static_cast<int>(tok.vocab_size()), 256, 1}, eo);
    weft::serve::ServerOptions so;
    so.port = 0;
    so.max_concurrent = concurrency;
    server = std::make_unique<weft::serve::Server>(std::move(engine), std::move(tok), so);
    url_host = "127.0.0.1";
    url_port = server->start();
  }
  std::printf(
      "bench_serve: %d concurrent streaming chat requests x %d rounds, max_tokens %d, engine "
      "max_batch %d, "
      "tiny random GPT (L=2 C=64), loopback\n",
      concurrency, rounds, max_tokens, max_batch);
  std::vector<Outcome> outcomes;
  const auto t0 = Clock::now();
  for (int r = 0; r < rounds; ++r) {
    std::vector<Outcome> round(static_cast<std::size_t>(concurrency));
    std::vector<std::thread> threads;
    for (int i = 0; i < concurrency; ++i)
      threads.emplace_back([&, i] {
        round[static_cast<std::size_t>(i)] = one_request(url_host, url_port, max_tokens, i);
      });
    for (auto& t : threads) t.join();
    outcomes.insert(outcomes.end(), round.begin(), round.end());
  }
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  int failed = 0;
  long tokens = 0;
  std::vector<double> ttft;
  for (const Outcome& o : outcomes) {
    if (!o.ok) {
      if (failed++ < 5) std::printf("  FAILED: %s\n", o.error.c_str());
      continue;
    }
    tokens += o.tokens;
    ttft.push_back(o.ttft_s * 1e3);
  }
  std::printf("requests %zu  failed %d  wall %.2f s\n", outcomes.size(), failed, wall);
  std::printf("time to first token: p50 %.1f ms  p99 %.1f ms\n", percentile(ttft, 0.5),
              percentile(ttft, 0.99));
  std::printf("generated %ld tokens: %.0f tokens/s over all streams\n", tokens,
              static_cast<double>(tokens) / wall);
  if (server) server->stop();
  return failed == 0 ? 0 : 1;
}
