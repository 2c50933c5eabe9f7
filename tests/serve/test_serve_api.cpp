// weft serve over HTTP: response shapes, streaming frames, greedy output equal to the
// engine's own greedy output (an independent Engine with the same weights is the
// oracle), and client disconnect cancelling a stream.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "serve_test_util.hpp"

namespace weft::serve::test {
namespace {

using nlohmann::json;

// The oracle: same weights, prompt ids built here from the template's documented form.
std::string oracle_greedy(const std::vector<std::int32_t>& prompt, int max_tokens,
                          std::vector<std::int32_t> stop, infer::Usage* usage = nullptr,
                          int context = 64) {
  infer::EngineOptions eo;
  eo.max_batch = 1;
  auto engine = serve_load_engine(tiny_spec(context), eo);
  infer::GenerationRequest g;
  g.prompt = prompt;
  g.max_tokens = max_tokens;
  g.sampling.temperature = 0;
  g.stop_tokens.push_back(stop);
  infer::GenerationResult r = engine->generate(std::move(g));
  if (usage) *usage = r.usage;
  std::string text;
  for (std::int32_t t : r.tokens) {  // byte tokens, then the specials by name
    if (t < 256)
      text.push_back(static_cast<char>(t));
    else
      text += data::kSpecialTokenNames[t - 256];
  }
  return text;
}

std::vector<std::int32_t> bytes_of(const std::string& s) {
  std::vector<std::int32_t> ids;
  for (unsigned char c : s) ids.push_back(c);
  return ids;
}

TEST(ServeApi, HealthModelsAndPage) {
  auto server = start_server();
  auto c = client(*server);
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(json::parse(h->body)["status"], "ok");
  auto m = c.Get("/v1/models");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  json j = json::parse(m->body);
  EXPECT_EQ(j["object"], "list");
  ASSERT_EQ(j["data"].size(), 1u);
  EXPECT_EQ(j["data"][0]["id"], "weft");
  EXPECT_EQ(j["data"][0]["object"], "model");
  auto page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("/v1/chat/completions"), std::string::npos);
  EXPECT_EQ(page->body.find("http://"), std::string::npos) << "the page must load nothing external";
  EXPECT_EQ(page->body.find("https://"), std::string::npos)
      << "the page must load nothing external";
}

TEST(ServeApi, ChatGreedyEqualsEngine) {
  auto server = start_server();
  auto c = client(*server);
  json req{{"model", "weft"},
           {"messages", json::array({{{"role", "system"}, {"content", "Be brief."}},
                                     {{"role", "user"}, {"content", "Hello there"}}})},
           {"max_tokens", 12},
           {"temperature", 0}};
  auto r = c.Post("/v1/chat/completions", req.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["model"], "weft");
  EXPECT_TRUE(j["id"].get<std::string>().rfind("chatcmpl-", 0) == 0);
  EXPECT_TRUE(j["created"].is_number_integer());
  ASSERT_EQ(j["choices"].size(), 1u);
  EXPECT_EQ(j["choices"][0]["index"], 0);
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");

  // <|system|>=257 <|user|>=258 <|assistant|>=259 <|end|>=260 after 256 bytes + <|endoftext|>.
  std::vector<std::int32_t> prompt{257};
  for (int t : bytes_of("Be brief.")) prompt.push_back(t);
  prompt.push_back(260);
  prompt.push_back(258);
  for (int t : bytes_of("Hello there")) prompt.push_back(t);
  prompt.push_back(260);
  prompt.push_back(259);
  infer::Usage usage;
  const std::string want = oracle_greedy(prompt, 12, {260}, &usage);
  EXPECT_EQ(j["choices"][0]["message"]["content"].get<std::string>(), want);
  EXPECT_EQ(j["usage"]["prompt_tokens"], static_cast<int>(prompt.size()));
  EXPECT_EQ(j["usage"]["completion_tokens"], usage.completion_tokens);
  EXPECT_EQ(j["usage"]["total_tokens"], static_cast<int>(prompt.size()) + usage.completion_tokens);
  EXPECT_EQ(j["choices"][0]["finish_reason"], usage.completion_tokens == 12 ? "length" : "stop");
}

TEST(ServeApi, CompletionGreedyEqualsEngineAndStreamEqualsWhole) {
  auto server = start_server();
  auto c = client(*server);
  json req{
      {"model", "weft"}, {"prompt", "Once upon a time"}, {"max_tokens", 20}, {"temperature", 0}};
  auto whole = c.Post("/v1/completions", req.dump(), "application/json");
  ASSERT_TRUE(whole);
  ASSERT_EQ(whole->status, 200) << whole->body;
  json j = json::parse(whole->body);
  EXPECT_EQ(j["object"], "text_completion");
  const std::string text = j["choices"][0]["text"];
  EXPECT_EQ(text, oracle_greedy(bytes_of("Once upon a time"), 20, {256}));

  req["stream"] = true;
  req["stream_options"] = {{"include_usage", true}};
  auto streamed = c.Post("/v1/completions", req.dump(), "application/json");
  ASSERT_TRUE(streamed);
  ASSERT_EQ(streamed->status, 200);
  EXPECT_NE(streamed->get_header_value("Content-Type").find("text/event-stream"),
            std::string::npos);
  std::vector<std::string> frames = sse_payloads(streamed->body);
  ASSERT_GE(frames.size(), 3u);
  EXPECT_EQ(frames.back(), "[DONE]");
  std::string joined;
  int finishes = 0;
  for (std::size_t i = 0; i + 1 < frames.size(); ++i) {
    json f = json::parse(frames[i]);
    EXPECT_EQ(f["object"], "text_completion");
    EXPECT_EQ(f["id"], json::parse(frames[0])["id"]);
    if (f.contains("usage")) {
      EXPECT_EQ(i + 2, frames.size()) << "usage comes last, before [DONE]";
      EXPECT_EQ(f["usage"]["completion_tokens"], j["usage"]["completion_tokens"]);
      continue;
    }
    joined += f["choices"][0]["text"].get<std::string>();
    if (!f["choices"][0]["finish_reason"].is_null()) ++finishes;
  }
  EXPECT_EQ(joined, text);
  EXPECT_EQ(finishes, 1);
}

TEST(ServeApi, ChatStreamChunks) {
  auto server = start_server();
  auto c = client(*server);
  json req{{"model", "weft"},
           {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})},
           {"max_tokens", 8},
           {"temperature", 0},
           {"stream", true}};
  auto r = c.Post("/v1/chat/completions", req.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  std::vector<std::string> frames = sse_payloads(r->body);
  ASSERT_GE(frames.size(), 3u);
  EXPECT_EQ(frames.back(), "[DONE]");
  json first = json::parse(frames[0]);
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  json last = json::parse(frames[frames.size() - 2]);
  EXPECT_TRUE(last["choices"][0]["finish_reason"].is_string());
  std::string joined;
  for (std::size_t i = 0; i + 1 < frames.size(); ++i) {
    json d = json::parse(frames[i])["choices"][0]["delta"];
    if (d.contains("content")) joined += d["content"].get<std::string>();
  }
  std::vector<std::int32_t> prompt{258, 'h', 'i', 260, 259};
  EXPECT_EQ(joined, oracle_greedy(prompt, 8, {260}));
}

// A client that hangs up mid-stream cancels its request: the engine stops long
// before max_tokens, and the place it held is freed.
TEST(ServeApi, DisconnectCancelsStream) {
  // Precondition: uncancelled, greedy decoding of this prompt runs all 2000 tokens.
  infer::Usage full;
  oracle_greedy(bytes_of("x"), 2000, {256}, &full, 4096);
  ASSERT_EQ(full.completion_tokens, 2000)
      << "pick a prompt whose greedy output does not stop early";
  ServerOptions o;
  auto server = start_server(o, 4096);
  auto c = client(*server);
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.set_header("Content-Type", "application/json");
  req.body = json{
      {"model", "weft"},
      {"prompt", "x"},
      {"max_tokens", 2000},
      {"temperature", 0},
      {"stream",
       true}}.dump();
  int chunks = 0;
  req.content_receiver = [&](const char*, std::size_t, std::uint64_t, std::uint64_t) {
    return ++chunks < 2;
  };
  httplib::Response res;
  httplib::Error err;
  c.send(req, res, err);  // returns once the receiver says stop
  EXPECT_GE(chunks, 2);
  long generated = -1;
  int active = -1;
  for (int i = 0; i < 200; ++i) {
    auto h = client(*server).Get("/health");
    ASSERT_TRUE(h);
    json j = json::parse(h->body);
    active = j["active"];
    generated = j["tokens_generated"];
    if (active == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_EQ(active, 0);
  EXPECT_LT(generated, 2000) << "the stream ran to the end instead of being cancelled";
}

}  // namespace
}  // namespace weft::serve::test
