// weft serve's answers to bad requests: each case's HTTP status and OpenAI-style error
// JSON, and the server still answering afterwards; plus a time-bounded fuzz loop of
// random and mutated bodies (parser alone, then over HTTP).
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

#include "serve/api_error.hpp"
#include "serve/api_request.hpp"
#include "serve_test_util.hpp"

namespace weft::serve::test {
namespace {

using nlohmann::json;

// Checks an error response: status, {"error":{message,type,param,code}} with the
// given param/code (empty = don't care).
void expect_error(const httplib::Result& r, int status, const std::string& param = {},
                  const std::string& code = {}) {
  ASSERT_TRUE(r) << "no response";
  EXPECT_EQ(r->status, status) << r->body;
  json j = json::parse(r->body, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r->body;
  ASSERT_TRUE(j.contains("error")) << r->body;
  const json& e = j["error"];
  EXPECT_TRUE(e["message"].is_string() && !e["message"].get<std::string>().empty());
  EXPECT_TRUE(e["type"].is_string());
  EXPECT_TRUE(e.contains("param") && e.contains("code"));
  if (!param.empty()) {
    EXPECT_EQ(e["param"], param) << r->body;
  }
  if (!code.empty()) {
    EXPECT_EQ(e["code"], code) << r->body;
  }
}

const char* kChat = "/v1/chat/completions";
const char* kComp = "/v1/completions";

json chat_body() {
  return json{{"model", "weft"},
              {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})},
              {"max_tokens", 4}};
}

TEST(ServeErrors, MalformedAndWrongTypes) {
  auto server = start_server();
  auto c = client(*server);
  expect_error(c.Post(kChat, "{\"model\": \"weft\", ", "application/json"), 400, "",
               "invalid_json");
  expect_error(c.Post(kChat, "[1,2,3]", "application/json"), 400, "", "invalid_json");
  expect_error(c.Post(kChat, "", "application/json"), 400, "", "invalid_json");
  json b = chat_body();
  b.erase("messages");
  expect_error(c.Post(kChat, b.dump(), "application/json"), 400, "messages",
               "missing_required_parameter");
  b = chat_body();
  b.erase("model");
  expect_error(c.Post(kChat, b.dump(), "application/json"), 400, "model");
  b = chat_body();
  b["temperature"] = "hot";
  expect_error(c.Post(kChat, b.dump(), "application/json"), 400, "temperature");
  b = chat_body();
  b["temperature"] = 5;
  expect_error(c.Post(kChat, b.dump(), "application/json"), 400, "temperature");
  b = chat_body();
  b["max_tokens"] = 2.5;
  expect_error(c.Post(kChat, b.dump(), "application/json"), 400, "max_tokens");
  b = chat_body();
  b["messages"][0]["role"] = "wizard";
  expect_error(c.Post(kChat, b.dump(), "application/json"), 400, "messages[0].role");
  b = chat_body();
  b["messages"][0]["content"] = 42;
  expect_error(c.Post(kChat, b.dump(), "application/json"), 400, "messages[0].content");
  b = chat_body();
  b["stream"] = "yes";
  expect_error(c.Post(kChat, b.dump(), "application/json"), 400, "stream");
  b = chat_body();
  b["n"] = 3;
  expect_error(c.Post(kChat, b.dump(), "application/json"), 400, "n");
  expect_error(c.Post(kComp, R"({"model":"weft","prompt":[1,2,3]})", "application/json"), 400,
               "prompt");
  expect_error(c.Post(kComp, R"({"model":"weft","prompt":"a","stop":["a","b","c","d","e"]})",
                      "application/json"),
               400, "stop");
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
}

TEST(ServeErrors, UnknownModelRouteBodyAndContext) {
  ServerOptions o;
  o.max_body_bytes = 4096;
  auto server = start_server(o, 64);
  auto c = client(*server);
  json b = chat_body();
  b["model"] = "gpt-4";
  expect_error(c.Post(kChat, b.dump(), "application/json"), 404, "model", "model_not_found");
  expect_error(c.Get("/v1/nothing"), 404, "", "not_found");
  std::string huge = R"({"model":"weft","prompt":")" + std::string(10000, 'a') + "\"}";
  expect_error(c.Post(kComp, huge, "application/json"), 413, "", "request_too_large");
  // 10 prompt bytes + 60 > 64 tokens of context.
  expect_error(c.Post(kComp, R"({"model":"weft","prompt":"0123456789","max_tokens":60})",
                      "application/json"),
               400, "max_tokens", "context_length_exceeded");
  expect_error(c.Post(kComp, json{{"model", "weft"}, {"prompt", std::string(70, 'z')}}.dump(),
                      "application/json"),
               400, "prompt", "context_length_exceeded");
  // Exactly at the limit is fine.
  auto ok = c.Post(kComp, R"({"model":"weft","prompt":"0123","max_tokens":60,"temperature":0})",
                   "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

TEST(ServeErrors, ApiKey) {
  ServerOptions o;
  o.api_key = "sekret";
  auto server = start_server(o);
  auto c = client(*server);
  expect_error(c.Post(kChat, chat_body().dump(), "application/json"), 401, "", "invalid_api_key");
  expect_error(c.Get("/v1/models"), 401, "", "invalid_api_key");
  httplib::Headers wrong{{"Authorization", "Bearer nope"}};
  expect_error(c.Post(kChat, wrong, chat_body().dump(), "application/json"), 401, "",
               "invalid_api_key");
  httplib::Headers right{{"Authorization", "Bearer sekret"}};
  auto r = c.Post(kChat, right, chat_body().dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  auto h = c.Get("/health");  // health and the page stay open
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
}

// With one place, a second request while a stream is open gets 429; after the stream
// ends the server takes requests again.
TEST(ServeErrors, TooManyConcurrent) {
  ServerOptions o;
  o.max_concurrent = 1;
  auto server = start_server(o, 4096);
  auto c = client(*server);
  httplib::Request req;
  req.method = "POST";
  req.path = kComp;
  req.set_header("Content-Type", "application/json");
  req.body = json{
      {"model", "weft"},
      {"prompt", "x"},
      {"max_tokens", 3000},
      {"temperature", 0},
      {"stream",
       true}}.dump();
  bool checked = false;
  req.content_receiver = [&](const char*, std::size_t, std::uint64_t, std::uint64_t) {
    if (!checked) {
      checked = true;
      expect_error(client(*server).Post(kChat, chat_body().dump(), "application/json"), 429, "",
                   "rate_limit_exceeded");
    }
    return false;  // hang up: the stream is cancelled
  };
  httplib::Response res;
  httplib::Error err;
  c.send(req, res, err);
  EXPECT_TRUE(checked);
  bool ok = false;
  for (int i = 0; i < 200 && !ok; ++i) {
    auto r = client(*server).Post(kChat, chat_body().dump(), "application/json");
    ok = r && r->status == 200;
    if (!ok) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_TRUE(ok) << "the server did not take requests again after the stream ended";
}

// Random mutations of valid bodies: byte flips, truncations, insertions, and values
// of random JSON types put into known fields.
std::string mutate(std::mt19937& rng, const std::string& base) {
  std::string s = base;
  std::uniform_int_distribution<int> kind(0, 5);
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n)(rng); };
  switch (kind(rng)) {
    case 0:
      for (int i = 0; i < 3 && !s.empty(); ++i) s[pick(s.size() - 1)] = static_cast<char>(rng());
      break;
    case 1:
      s.resize(pick(s.size()));
      break;
    case 2: {
      const char* bits[] = {"{",     "}",  "[",        "]",       "\"",
                            ",",     ":",  "null",     "\\u0000", "\\ud800",
                            "1e999", "-0", "\xff\xfe", "true",    "99999999999999999999"};
      s.insert(pick(s.size()), bits[pick(std::size(bits) - 1)]);
      break;
    }
    case 3: {
      json j = json::parse(base);
      const char* fields[] = {"model",       "messages",
                              "prompt",      "max_tokens",
                              "temperature", "top_p",
                              "stream",      "stop",
                              "n",           "seed",
                              "top_k",       "stream_options",
                              "logprobs",    "max_completion_tokens"};
      const json values[] = {nullptr,
                             true,
                             -1,
                             0,
                             1,
                             3,
                             1e300,
                             -1e-300,
                             "",
                             "weft",
                             json::array(),
                             json::array({1, "a"}),
                             json::object(),
                             json{{"include_usage", 1}},
                             json::array({json{{"role", "user"}}}),
                             18446744073709551615ull};
      j[fields[pick(std::size(fields) - 1)]] = values[pick(std::size(values) - 1)];
      s = j.dump();
      break;
    }
    case 4: {
      std::string r(pick(64), ' ');
      for (char& ch : r) ch = static_cast<char>(rng());
      s = r;
      break;
    }
    default:
      s = base + base;
  }
  return s;
}

const std::string kBases[] = {
    R"({"model":"weft","messages":[{"role":"user","content":"hi"}],"max_tokens":3})",
    R"({"model":"weft","messages":[{"role":"system","content":[{"type":"text","text":"x"}]},{"role":"user","content":"y"}],"max_tokens":2,"stream":true})",
    R"({"model":"weft","prompt":"abc","max_tokens":3,"stop":["q"],"temperature":0.5,"seed":4})",
    R"({"model":"weft","prompt":["abc"],"max_tokens":2,"stream":true,"stream_options":{"include_usage":true}})",
};

TEST(ServeFuzz, ParserOnlyThrowsApiError) {
  std::mt19937 rng(12345);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  long n = 0, rejected = 0;
  while (std::chrono::steady_clock::now() < until) {
    const std::string body = mutate(rng, kBases[n % std::size(kBases)]);
    const ApiKind kind =
        body.find("prompt") != std::string::npos ? ApiKind::kCompletion : ApiKind::kChat;
    try {
      parse_api_request(body, kind);
    } catch (const ApiError& e) {
      ++rejected;
      EXPECT_GE(e.status(), 400);
      EXPECT_LT(e.status(), 500);
      EXPECT_FALSE(json::parse(e.body(), nullptr, false).is_discarded());
    } catch (const std::exception& e) {
      ADD_FAILURE() << "body " << json(body).dump(-1, ' ', false, json::error_handler_t::replace)
                    << " threw a non-API error: " << e.what();
    }
    ++n;
  }
  EXPECT_GT(n, 100);
  EXPECT_GT(rejected, 0);
}

TEST(ServeFuzz, HttpBodiesNever5xxAndServerSurvives) {
  auto server = start_server();
  std::mt19937 rng(999);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(3000);
  long n = 0, ok = 0;
  auto c = client(*server);
  while (std::chrono::steady_clock::now() < until) {
    const std::string& base = kBases[n % std::size(kBases)];
    const std::string body = mutate(rng, base);
    const char* path = base.find("prompt") != std::string::npos ? kComp : kChat;
    auto r = c.Post(path, body, "application/json");
    ASSERT_TRUE(r) << "no answer to "
                   << json(body).dump(-1, ' ', false, json::error_handler_t::replace);
    ASSERT_LT(r->status, 500) << r->body;
    if (r->status == 200) {
      ++ok;
      if (r->get_header_value("Content-Type").find("event-stream") != std::string::npos) {
        auto frames = sse_payloads(r->body);
        ASSERT_FALSE(frames.empty());
        EXPECT_EQ(frames.back(), "[DONE]");
      } else {
        EXPECT_FALSE(json::parse(r->body, nullptr, false).is_discarded()) << r->body;
      }
    } else {
      json j = json::parse(r->body, nullptr, false);
      EXPECT_TRUE(!j.is_discarded() && j.contains("error")) << r->status << " " << r->body;
    }
    ++n;
  }
  EXPECT_GT(n, 20);
  EXPECT_GT(ok, 0);
  auto h = client(*server).Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  std::printf("fuzz: %ld bodies over HTTP, %ld accepted\n", n, ok);
}

}  // namespace
}  // namespace weft::serve::test
