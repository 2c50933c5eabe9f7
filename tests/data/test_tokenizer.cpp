// Tokenizer unit tests: Unicode tables against the range lists, UTF-8 decoding,
// GPT-2 pre-tokenisation on hand-checked cases, both merge routines agree, invalid
// UTF-8 round trips, special tokens, file formats (save/load, tiktoken, bad files),
// content hash, and encode from many threads at once.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "core/error.hpp"
#include "data/tokenizer_impl.hpp"
#include "data/tokenizer_pretokenize.hpp"
#include "data/tokenizer_unicode.hpp"
#include "tokenizer_test_util.hpp"

namespace weft::data {
namespace {

using test::gpt2_tokenizer;

TEST(TokenizerUnicode, TableEqualsRangeListsForEveryCodePoint) {
  const auto& t = unicode::class_table();
  for (uint32_t cp = 0; cp <= unicode::kMaxCodePoint; ++cp)
    ASSERT_EQ(t.of(cp), unicode::char_class_by_ranges(cp)) << "U+" << std::hex << cp;
}

TEST(TokenizerUnicode, KnownClasses) {
  const auto& t = unicode::class_table();
  EXPECT_EQ(t.of('a'), unicode::kLetter);
  EXPECT_EQ(t.of(0x4E2D), unicode::kLetter);  // 中
  EXPECT_EQ(t.of(0x0663), unicode::kNumber);  // ٣ Arabic-Indic digit
  EXPECT_EQ(t.of(0x216B), unicode::kNumber);  // Ⅻ (Nl)
  EXPECT_EQ(t.of(0x00BD), unicode::kNumber);  // ½ (No)
  EXPECT_EQ(t.of(0x3000), unicode::kSpace);   // ideographic space
  EXPECT_EQ(t.of(0x0085), unicode::kSpace);   // NEL
  EXPECT_EQ(t.of(0x001C), unicode::kOther);   // not White_Space (Python's isspace says yes)
  EXPECT_EQ(t.of(0x200D), unicode::kOther);   // ZWJ
  EXPECT_EQ(t.of(0x0301), unicode::kOther);   // combining acute (Mn)
  EXPECT_EQ(t.of(0x1F600), unicode::kOther);  // emoji
  EXPECT_EQ(t.of(0xFFFD), unicode::kOther);
}

TEST(TokenizerUnicode, Utf8DecodeRejectsMalformed) {
  auto dec = [](std::string s) { return unicode::utf8_decode(s, 0); };
  EXPECT_EQ(dec("\xC3\xA9").cp, 0xE9u);
  EXPECT_EQ(dec("\xF0\x9F\x98\x80").cp, 0x1F600u);
  for (std::string bad :
       {"\x80", "\xC0\xAF", "\xC1\xBF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
        "\xF5\x80\x80\x80", "\xFF", "\xC3", "\xE2\x82", "\xF0\x9F\x98"}) {
    const auto d = dec(bad);
    EXPECT_EQ(d.cp, unicode::kReplacementChar) << bad.size();
    EXPECT_EQ(d.len, 1u);
  }
}

std::vector<std::string> pieces(std::string_view text) {
  std::vector<std::string> out;
  for (auto p : pretokenize(text)) out.emplace_back(p);
  return out;
}

// Expected splits worked out by hand from the pattern's alternatives.
TEST(TokenizerPretokenize, GptTwoPatternCases) {
  using V = std::vector<std::string>;
  EXPECT_EQ(pieces("Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(pieces("it's we'll I'M"), (V{"it", "'s", " we", "'ll", " I", "'", "M"}));
  EXPECT_EQ(pieces("a  b"), (V{"a", " ", " b"}));
  EXPECT_EQ(pieces("a   \n\nb"), (V{"a", "   \n", "\n", "b"}));
  EXPECT_EQ(pieces("x\n y"), (V{"x", "\n", " y"}));
  EXPECT_EQ(pieces("end  "), (V{"end", "  "}));
  EXPECT_EQ(pieces("abc123 45!?"), (V{"abc", "123", " 45", "!?"}));
  EXPECT_EQ(pieces(" !'s"), (V{" !'", "s"}));
  EXPECT_EQ(pieces("\t\tx"), (V{"\t", "\t", "x"}));
  EXPECT_EQ(pieces("caf\xC3\xA9 \xE4\xB8\xAD"), (V{"caf\xC3\xA9", " \xE4\xB8\xAD"}));
  EXPECT_EQ(pieces("a\xC2\xA0"
                   "b"),
            (V{"a", "\xC2\xA0", "b"}));  // NBSP is \s but not ' '
  EXPECT_EQ(pieces("\xC2\xA0\xC2\xA0x"), (V{"\xC2\xA0", "\xC2\xA0", "x"}));
}

TEST(TokenizerPretokenize, InvalidBytesActLikeReplacementChar) {
  // Rule: each invalid byte is pre-tokenised as U+FFFD (class other), bytes kept. So the
  // cuts in a raw string equal the cuts in its lossy copy (invalid byte → U+FFFD).
  std::mt19937 rng(7);
  const std::string alphabet[] = {"a",    "Z",    "1",        " ",           "\n",
                                  "'",    "s",    "!",        "\xC3\xA9",    "\x80",
                                  "\xFF", "\xC3", "\xE4\xB8", "\xEF\xBF\xBD"};
  for (int iter = 0; iter < 2000; ++iter) {
    std::string raw;
    const int n = 1 + static_cast<int>(rng() % 20);
    for (int i = 0; i < n; ++i) raw += alphabet[rng() % std::size(alphabet)];
    std::string lossy;
    std::vector<std::size_t> to_lossy(raw.size() + 1,
                                      ~std::size_t{0});  // raw offset → lossy offset
    for (std::size_t k = 0; k < raw.size();) {
      const auto d = unicode::utf8_decode(raw, k);
      to_lossy[k] = lossy.size();
      lossy += d.cp == unicode::kReplacementChar && d.len == 1 ? std::string("\xEF\xBF\xBD")
                                                               : raw.substr(k, d.len);
      k += d.len;
    }
    std::vector<std::size_t> mapped, cuts_lossy;
    for (auto p : pretokenize(raw))
      mapped.push_back(to_lossy[static_cast<std::size_t>(p.data() - raw.data())]);
    for (auto p : pretokenize(lossy))
      cuts_lossy.push_back(static_cast<std::size_t>(p.data() - lossy.data()));
    ASSERT_EQ(mapped, cuts_lossy) << "iteration " << iter;
  }
}

TEST(TokenizerBpe, LinearAndHeapMergesAgree) {
  const auto& tok = gpt2_tokenizer();
  // Reach into the implementation through a trained-free path: build a Vocab the same way.
  detail::Vocab v;
  std::vector<std::string> ranks;
  for (uint32_t id = 0; id < tok.n_mergeable(); ++id) ranks.emplace_back(tok.token_bytes(id));
  detail::vocab_build(v, ranks, "gpt2");
  std::mt19937 rng(11);
  const std::string parts[] = {"a", "b", "an", "the", "e", "s", "ing", "\xC3\xA9", "\xF0\x9F", "x"};
  for (int iter = 0; iter < 300; ++iter) {
    std::string piece;
    const int n = 1 + static_cast<int>(rng() % 200);
    for (int i = 0; i < n; ++i) piece += parts[rng() % std::size(parts)];
    std::vector<uint32_t> a, b;
    detail::bpe_merge_linear(v, piece, a);
    detail::bpe_merge_heap(v, piece, b);
    ASSERT_EQ(a, b) << piece;
    EXPECT_EQ(tok.decode(a), piece);
  }
}

TEST(TokenizerBpe, RoundTripsArbitraryBytes) {
  const auto& tok = gpt2_tokenizer();
  std::mt19937 rng(3);
  for (int iter = 0; iter < 500; ++iter) {
    std::string s(rng() % 300, '\0');
    for (auto& c : s) c = static_cast<char>(rng() % 4 == 0 ? ' ' : rng() % 256);
    const auto ids = tok.encode(s);
    ASSERT_EQ(tok.decode(ids), s);
    for (uint32_t id : ids) ASSERT_LT(id, tok.n_mergeable());
  }
  const std::string long_run(100000, ' ');  // long pieces take the heap path
  EXPECT_EQ(tok.decode(tok.encode(long_run + "x" + std::string(5000, '7'))),
            long_run + "x" + std::string(5000, '7'));
}

TEST(TokenizerSpecials, IdsAndParsing) {
  const auto& tok = gpt2_tokenizer();
  EXPECT_EQ(tok.eot_id(), 50256u);  // GPT-2's <|endoftext|>
  EXPECT_EQ(tok.vocab_size(), 50261u);
  const auto sp = tok.special_ids();
  EXPECT_EQ(sp.system, 50257u);
  EXPECT_EQ(sp.end, 50260u);
  EXPECT_EQ(tok.special_id("<|assistant|>"), std::optional<uint32_t>(50259u));
  EXPECT_FALSE(tok.special_id("<|nope|>"));

  const std::string text = "<|user|>Hi<|end|><|assistant|>Hello<|endoftext|><|x|>";
  const auto ids = tok.encode_with_specials(text);
  EXPECT_EQ(ids.front(), sp.user);
  EXPECT_EQ(tok.decode(ids), text);
  std::vector<uint32_t> want = {sp.user};
  tok.encode_append("Hi", want);
  want.insert(want.end(), {sp.end, sp.assistant});
  tok.encode_append("Hello", want);
  want.push_back(sp.endoftext);
  tok.encode_append("<|x|>", want);
  EXPECT_EQ(ids, want);
  // Ordinary encode never produces a special id.
  for (uint32_t id : tok.encode(text)) EXPECT_LT(id, tok.n_mergeable());
}

TEST(TokenizerSpecials, DecodeRejectsUnknownId) {
  const std::vector<uint32_t> ids = {15496, 50261};
  try {
    (void)gpt2_tokenizer().decode(ids);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("50261"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("position 1"), std::string::npos) << e.what();
  }
}

TEST(TokenizerFiles, SaveLoadGivesSameIdsAndHash) {
  test::TempDir dir;
  const auto& tok = gpt2_tokenizer();
  tok.save(dir.path / "gpt2.json");
  const Tokenizer back = Tokenizer::load(dir.path / "gpt2.json");
  EXPECT_EQ(back.content_hash(), tok.content_hash());
  const std::string text = test::read_all(WEFT_FIXTURES_DIR "/tokenizer/adversarial.txt");
  EXPECT_EQ(back.encode(text), tok.encode(text));
  EXPECT_EQ(Tokenizer::load_any(dir.path / "gpt2.json").content_hash(), tok.content_hash());
  EXPECT_EQ(Tokenizer::load_any(WEFT_FIXTURES_DIR "/gpt2").content_hash(), tok.content_hash());
}

std::string base64(std::string_view in) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = 0;
    const std::size_t n = std::min<std::size_t>(3, in.size() - i);
    for (std::size_t k = 0; k < 3; ++k)
      v = (v << 8) | (k < n ? static_cast<unsigned char>(in[i + k]) : 0u);
    for (std::size_t k = 0; k < 4; ++k) out += k <= n ? a[(v >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

TEST(TokenizerFiles, TiktokenRankFile) {
  test::TempDir dir;
  const auto& tok = gpt2_tokenizer();
  std::string file;
  for (uint32_t id = 0; id < tok.n_mergeable(); ++id)
    file += base64(tok.token_bytes(id)) + " " + std::to_string(id) + "\n";
  test::write_all(dir.path / "gpt2.tiktoken", file);
  const Tokenizer tt = Tokenizer::load_tiktoken(dir.path / "gpt2.tiktoken");
  EXPECT_EQ(tt.content_hash(), tok.content_hash());
  EXPECT_EQ(tt.encode("Hello world, it's 1,000.5"), tok.encode("Hello world, it's 1,000.5"));
  EXPECT_EQ(tt.token_bytes(0), "!");  // "IQ==" is '!' in any base64 decoder

  test::write_all(dir.path / "bad.tiktoken", "IQ== 0\nIg== 5\n");
  EXPECT_THROW(Tokenizer::load_tiktoken(dir.path / "bad.tiktoken"), Error);
  test::write_all(dir.path / "bad2.tiktoken", "I*Q== 0\n");
  EXPECT_THROW(Tokenizer::load_tiktoken(dir.path / "bad2.tiktoken"), Error);
}

// Runs `fn`, expects a weft::Error whose message contains every `parts`.
template <typename Fn>
void expect_error(Fn&& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "expected a weft::Error";
  } catch (const Error& e) {
    for (const auto& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << "'" << p << "' not in: " << e.what();
  }
}

TEST(TokenizerFiles, OtherVersionIsAClearError) {
  test::TempDir dir;
  gpt2_tokenizer().save(dir.path / "t.json");
  std::string text = test::read_all(dir.path / "t.json");
  const std::string from = "\"version\": 1";
  ASSERT_NE(text.find(from), std::string::npos);
  text.replace(text.find(from), from.size(), "\"version\": 2");
  test::write_all(dir.path / "v2.json", text);
  expect_error([&] { (void)Tokenizer::load(dir.path / "v2.json"); }, {"v2.json", "version 2"});
  test::write_all(dir.path / "typed.json",
                  "{\"format\": \"weft-tokenizer\", \"version\": 1, \"pattern\": 5}");
  expect_error([&] { (void)Tokenizer::load(dir.path / "typed.json"); }, {"typed.json"});
  test::write_all(dir.path / "other.json", "{\"format\": \"something-else\"}");
  expect_error([&] { (void)Tokenizer::load(dir.path / "other.json"); },
               {"other.json", "weft-tokenizer"});
}

TEST(TokenizerFiles, EditedWeftFileFailsItsHash) {
  test::TempDir dir;
  gpt2_tokenizer().save(dir.path / "t.json");
  std::string text = test::read_all(dir.path / "t.json");
  const std::string from = "\"Ġthe\"";  // swap two tokens' ranks → different content
  const std::string to = "\"Ġand\"";
  const auto a = text.find(from), b = text.find(to);
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  text.replace(b, to.size(), from);
  text.replace(a, from.size(), to);
  test::write_all(dir.path / "edited.json", text);
  expect_error([&] { (void)Tokenizer::load(dir.path / "edited.json"); },
               {"edited.json", "content_sha256"});
}

TEST(TokenizerFiles, CorruptGpt2FilesAreClearErrors) {
  test::TempDir dir;
  const std::string enc = test::read_all(WEFT_FIXTURES_DIR "/gpt2/encoder.json");
  const std::filesystem::path bpe = WEFT_FIXTURES_DIR "/gpt2/vocab.bpe";
  test::write_all(dir.path / "truncated.json", enc.substr(0, enc.size() / 2));
  expect_error([&] { (void)Tokenizer::load_gpt2(dir.path / "truncated.json", bpe); },
               {"truncated.json", "JSON"});
  std::string wrong_id = enc;
  const std::string from = "\"the\": 1169";
  ASSERT_NE(wrong_id.find(from), std::string::npos);
  wrong_id.replace(wrong_id.find(from), from.size(), "\"the\": 1170");
  test::write_all(dir.path / "wrong_id.json", wrong_id);
  expect_error([&] { (void)Tokenizer::load_gpt2(dir.path / "wrong_id.json", bpe); },
               {"wrong_id.json", "'the'"});
  test::write_all(dir.path / "vocab.bpe", "#version: 0.2\nĠ t h\n");
  expect_error(
      [&] {
        (void)Tokenizer::load_gpt2(WEFT_FIXTURES_DIR "/gpt2/encoder.json", dir.path / "vocab.bpe");
      },
      {"vocab.bpe:2"});
  expect_error([&] { (void)Tokenizer::load_gpt2(dir.path / "missing.json", bpe); },
               {"missing.json"});
}

TEST(TokenizerFiles, ContentHashDependsOnContent) {
  std::vector<std::string> ranks;
  for (int b = 0; b < 256; ++b) ranks.emplace_back(1, static_cast<char>(b));
  auto with = [&](std::vector<std::string> extra) {
    auto r = ranks;
    r.insert(r.end(), extra.begin(), extra.end());
    return Tokenizer::from_ranks(r).content_hash();
  };
  EXPECT_EQ(with({"ab", "abc"}), with({"ab", "abc"}));
  EXPECT_NE(with({"ab", "abc"}), with({"abc", "ab"}));
  EXPECT_NE(with({"ab"}), with({"ab", "abc"}));
  EXPECT_EQ(with({}).size(), 64u);
  EXPECT_THROW(with({"ab", "ab"}), Error);  // duplicate token
  ranks.pop_back();
  EXPECT_THROW(Tokenizer::from_ranks(ranks), Error);  // a byte missing
}

TEST(TokenizerThreads, ManyThreadsEncodeLikeOne) {
  const auto& tok = gpt2_tokenizer();
  const std::string text = test::read_all(WEFT_FIXTURES_DIR "/tokenizer/adversarial.txt");
  const auto want = tok.encode(text);
  std::vector<std::thread> threads;
  std::vector<int> ok(8, 0);
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      bool same = true;
      for (int rep = 0; rep < 5; ++rep) same &= tok.encode(text) == want;
      ok[static_cast<std::size_t>(t)] = same;
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 8; ++t) EXPECT_TRUE(ok[static_cast<std::size_t>(t)]) << "thread " << t;
}

}  // namespace
}  // namespace weft::data

namespace weft::data {
namespace {

TEST(TokenizerThreads, SplitTextPartsEncodeLikeTheWhole) {
  const auto& tok = test::gpt2_tokenizer();
  std::string text = test::read_all(WEFT_FIXTURES_DIR "/tokenizer/adversarial.txt");
  text += "\n \nx\n\t\ny\n  \n\nz\n\xC2\xA0\nw\n\xFF\nv";  // lines that must not be cut before
  for (std::size_t target : {1, 7, 64, 1000}) {
    const auto parts = tokenizer_split_text(text, target);
    std::vector<uint32_t> ids;
    std::string joined;
    for (auto p : parts) {
      tok.encode_append(p, ids);
      joined += p;
    }
    EXPECT_EQ(joined, text);
    EXPECT_EQ(ids, tok.encode(text)) << "target " << target;
    if (target == 7) {
      EXPECT_GT(parts.size(), 20u);
    }
  }
}

}  // namespace
}  // namespace weft::data
