// The chat template against the tokenizer's own special-token encoding of the rendered
// text, its assistant mask; and `weft chat` driven through a pipe: greedy replies equal
// a full-recompute greedy continuation of the rendered conversation, /commands work.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/chat_template.hpp"
#include "data/tokenizer.hpp"
#include "infer_test_util.hpp"
#include "model/llmc_checkpoint.hpp"

namespace weft::infer {
namespace {

namespace fs = std::filesystem;

const data::Tokenizer& gpt2() {
  static const data::Tokenizer tok = data::Tokenizer::load_gpt2(
      WEFT_FIXTURES_DIR "/gpt2/encoder.json", WEFT_FIXTURES_DIR "/gpt2/vocab.bpe");
  return tok;
}

TEST(InferChatTemplate, RenderEqualsSpecialTokenEncodingOfTheText) {
  const data::Tokenizer& tok = gpt2();
  const std::vector<data::ChatMessage> msgs = {{data::ChatRole::kSystem, "You are terse."},
                                               {data::ChatRole::kUser, "Say <|user|> hi"},
                                               {data::ChatRole::kAssistant, "Hello there!"}};
  const data::ChatTokens ct = data::chat_render(tok, msgs);
  // Independent path: the text with specials, encoded by the tokenizer's special-aware
  // encoder — except the user's literal "<|user|>", which must stay plain text.
  std::vector<uint32_t> want = tok.encode_with_specials("<|system|>You are terse.<|end|><|user|>");
  for (uint32_t id : tok.encode("Say <|user|> hi")) want.push_back(id);
  for (uint32_t id : tok.encode_with_specials("<|end|><|assistant|>Hello there!<|end|>"))
    want.push_back(id);
  EXPECT_EQ(ct.ids, want);
  EXPECT_EQ(tok.special_ids().system, 50257u);
  EXPECT_EQ(tok.special_ids().end, 50260u);
  // Mask: exactly the tokens after <|assistant|> up to and including its <|end|>.
  ASSERT_EQ(ct.assistant_mask.size(), ct.ids.size());
  bool in_reply = false;
  for (std::size_t i = 0; i < ct.ids.size(); ++i) {
    EXPECT_EQ(ct.assistant_mask[i], in_reply ? 1 : 0) << i;
    if (ct.ids[i] == tok.special_ids().assistant) in_reply = true;
    if (in_reply && ct.ids[i] == tok.special_ids().end && ct.assistant_mask[i]) in_reply = false;
  }
  const std::vector<uint32_t> p = data::chat_render_prompt(tok, {msgs[0], msgs[1]});
  EXPECT_EQ(p.back(), tok.special_ids().assistant);
  EXPECT_THROW(data::chat_role_parse("robot"), Error);
}

std::string run_capture(const std::string& cmd, int* status) {
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  *status = ::pclose(f);
  return out;
}

TEST(InferChatCli, PipedSessionStreamsGreedyRepliesAndRunsCommands) {
  const fs::path dir = fs::temp_directory_path() / ("weft_chat_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // A small trained tokenizer and a random model whose vocabulary holds it.
  const std::string corpus =
      "hello there, how are you? I am fine. The quick brown fox jumps over the lazy dog. ";
  std::vector<std::string_view> texts(20, corpus);
  data::TokenizerTrainOptions to;
  to.vocab_size = 300;
  to.progress = false;
  const data::Tokenizer tok = data::tokenizer_train(texts, to);
  tok.save(dir / "tok.json");
  const model::GptConfig c = test::small_config(static_cast<int>(tok.vocab_size()), 128);
  auto m = test::make_model(c, 21);
  model::llmc_save_model((dir / "m.bin").string(), c, m->params());

  // The expected first reply: greedy by full recomputation, stopped at <|end|>.
  std::vector<uint32_t> p32 =
      data::chat_render_prompt(tok, {{data::ChatRole::kUser, "hello there"}});
  std::vector<int32_t> prompt(p32.begin(), p32.end());
  std::vector<int32_t> reply = test::greedy_full(*m, prompt, 12);
  for (std::size_t i = 0; i < reply.size(); ++i)
    if (reply[i] == static_cast<int32_t>(tok.special_ids().end) ||
        reply[i] == static_cast<int32_t>(tok.special_ids().endoftext)) {
      reply.resize(i);
      break;
    }
  const std::string want = tok.decode(std::vector<uint32_t>(reply.begin(), reply.end()));
  EXPECT_GE(reply.size(), 2u);  // a reply with content, or the check below means little

  const std::string input =
      "hello there\\n/temp 0.5\\n/temp x\\n/system be "
      "brief\\n/history\\n/reset\\n/history\\n/bogus\\n";
  int status = 0;
  const std::string out =
      run_capture("printf '" + input + "' | " WEFT_EXE " chat --model " + (dir / "m.bin").string() +
                      " --tokenizer " + (dir / "tok.json").string() +
                      " --temp 0 --repetition-penalty 1 --max-tokens 12 --no-prompt 2>&1",
                  &status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_NE(out.find("assistant> " + want), std::string::npos) << "want reply: [" << want << "]\n"
                                                               << out;
  EXPECT_NE(out.find("[temperature 0.5]"), std::string::npos) << out;
  EXPECT_NE(out.find("[/temp needs a number"), std::string::npos) << out;
  EXPECT_NE(out.find("[system message set]"), std::string::npos) << out;
  EXPECT_NE(out.find("system: be brief\nuser: hello there\nassistant: " + want), std::string::npos)
      << out;
  EXPECT_NE(out.find("[conversation reset]\nsystem: be brief\n[unknown command /bogus"),
            std::string::npos)
      << out;

  // A model whose vocabulary cannot hold the tokenizer's ids: a clear error.
  const model::GptConfig small = test::small_config(100, 32);
  auto m2 = test::make_model(small, 1);
  model::llmc_save_model((dir / "small.bin").string(), small, m2->params());
  const std::string err = run_capture(std::string("echo hi | " WEFT_EXE " chat --model ") +
                                          (dir / "small.bin").string() + " --tokenizer " +
                                          (dir / "tok.json").string() + " 2>&1",
                                      &status);
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_NE(err.find("vocabulary"), std::string::npos) << err;
  if (!std::getenv("WEFT_KEEP_TEST_DIR")) fs::remove_all(dir);
}

}  // namespace
}  // namespace weft::infer
