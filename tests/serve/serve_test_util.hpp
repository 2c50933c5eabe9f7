// Helpers for the serve tests: a byte-level tokenizer (256 single bytes + 5 specials),
// an in-process Server on an ephemeral loopback port over the tiny random model, an
// independent oracle engine with the same weights, and small HTTP/SSE helpers.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/tokenizer.hpp"
#include "infer/engine.hpp"
#include "serve/serve_model.hpp"
#include "serve/server.hpp"

namespace weft::serve::test {

inline data::Tokenizer byte_tokenizer() {
  std::vector<std::string> bytes;
  for (int b = 0; b < 256; ++b) bytes.emplace_back(1, static_cast<char>(b));
  return data::Tokenizer::from_ranks(std::move(bytes));
}

inline ModelSpec tiny_spec(int context) {
  return ModelSpec{"random", 261, context, 77};
}

inline std::unique_ptr<Server> start_server(ServerOptions options = {}, int context = 64) {
  options.port = 0;
  infer::EngineOptions eo;
  eo.max_batch = 4;
  auto server = std::make_unique<Server>(serve_load_engine(tiny_spec(context), eo),
                                         byte_tokenizer(), options);
  server->start();
  return server;
}

inline httplib::Client client(const Server& s) {
  httplib::Client c("127.0.0.1", s.port());
  c.set_read_timeout(30, 0);
  return c;
}

// "data: ..." payloads of an SSE body, in order ("[DONE]" included as is).
inline std::vector<std::string> sse_payloads(const std::string& body) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) end = body.size();
    const std::string frame = body.substr(pos, end - pos);
    if (frame.rfind("data: ", 0) == 0)
      out.push_back(frame.substr(6));
    else if (!frame.empty())
      out.push_back("<bad frame: " + frame + ">");
    pos = end + 2;
  }
  return out;
}

}  // namespace weft::serve::test
