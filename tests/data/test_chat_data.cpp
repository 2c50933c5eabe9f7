// Tests of `weft data chat` (data/chat_data.hpp, chat_source_*.hpp): parsing of
// committed excerpts of the Debian files against hand-read values, answers checked
// against the source text, the train/test split, determinism, files and the CLI.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "data/chat_data.hpp"
#include "data/chat_template.hpp"
#include "tokenizer_test_util.hpp"

namespace {

namespace fs = std::filesystem;
using namespace weft;
using namespace weft::data;
using nlohmann::json;

const std::string kChatFixtures = WEFT_FIXTURES_DIR "/chat";

std::string error_text(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return std::string(e.what()) + " | " + e.hint();
  }
  return "(no error)";
}

// The real Debian sources, read once (tests skip where a package is missing).
const std::vector<KjvVerse>& bible() {
  static const std::vector<KjvVerse> v = [] {
    try {
      return kjv_read_bible();
    } catch (const Error&) {
      return std::vector<KjvVerse>{};
    }
  }();
  return v;
}
const std::vector<WordnetSynset>& wordnet() {
  static const std::vector<WordnetSynset> s = [] {
    try {
      return wordnet_read();
    } catch (const Error&) {
      return std::vector<WordnetSynset>{};
    }
  }();
  return s;
}

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  return d;
}

TEST(ChatDataKjv, ParsesBibleOutputExcerpt) {
  const std::string text = test::read_all(kChatFixtures + "/kjv_excerpt.txt");
  const std::vector<KjvVerse> v = kjv_parse(text, "kjv_excerpt.txt");
  ASSERT_EQ(v.size(), 11u);  // Ge1:1-5, 1Sm3:1-4, Rev22:20-21
  EXPECT_EQ(v[0].book, "Genesis");
  EXPECT_EQ(v[0].chapter, 1);
  EXPECT_EQ(v[0].verse, 1);
  EXPECT_EQ(v[0].text, "In the beginning God created the heaven and the earth.");
  EXPECT_EQ(v[2].reference(), "Genesis 1:3");
  EXPECT_EQ(v[2].text, "And God said, Let there be light: and there was light.");
  EXPECT_EQ(v[8].reference(), "1 Samuel 3:4");
  EXPECT_EQ(v[8].text, "That the LORD called Samuel: and he answered, Here am I.");
  EXPECT_EQ(v[10].reference(), "Revelation 22:21");
  EXPECT_EQ(v[10].text, "The grace of our Lord Jesus Christ be with you all. Amen.");
}

TEST(ChatDataKjv, BadLinesNameSourceAndLine) {
  EXPECT_NE(error_text([] { kjv_parse("Ge1:1 ok\nXy1:1 text\n", "f.txt"); }).find("f.txt:2"),
            std::string::npos);
  EXPECT_NE(error_text([] { kjv_parse("Ge1 no verse\n", "f.txt"); }).find("f.txt:1"),
            std::string::npos);
  EXPECT_NE(error_text([] { kjv_parse("Ge1:2 \n", "f.txt"); }).find("empty verse"),
            std::string::npos);
}

TEST(ChatDataKjv, MissingProgramNamesThePackage) {
  const std::string e = error_text([] { kjv_read_bible("/nonexistent/bible"); });
  EXPECT_NE(e.find("apt-get install bible-kjv"), std::string::npos) << e;
}

TEST(ChatDataWordnet, ParsesDataFileExcerpts) {
  const std::vector<WordnetSynset> s = wordnet_read(kChatFixtures + "/wordnet");
  ASSERT_EQ(s.size(), 10u);  // noun 4, verb 2, adj 2, adv 2 (licence lines skipped)
  EXPECT_EQ(s[0].offset, "00001740");
  EXPECT_EQ(s[0].pos, 'n');
  EXPECT_EQ(s[0].words, std::vector<std::string>{"entity"});
  EXPECT_EQ(s[0].definition,
            "that which is perceived or known or inferred to have its own distinct existence "
            "(living or nonliving)");
  EXPECT_EQ(s[2].words, (std::vector<std::string>{"abstraction", "abstract entity"}));
  EXPECT_EQ(s[4].pos, 'v');
  EXPECT_EQ(s[4].words,
            (std::vector<std::string>{"breathe", "take a breath", "respire", "suspire"}));
  EXPECT_EQ(s[4].definition, "draw air into, and expel out of, the lungs");
  EXPECT_EQ(s[6].pos, 's');
  EXPECT_EQ(s[6].words, (std::vector<std::string>{"outback", "remote"}));
  EXPECT_EQ(s[6].definition, "inaccessible and sparsely populated");
  EXPECT_EQ(s[7].definition, "accurate and to the point");
  EXPECT_EQ(s[9].pos, 'r');
  EXPECT_EQ(s[9].words, (std::vector<std::string>{"AD", "A.D.", "anno Domini"}));
  EXPECT_EQ(s[9].definition,
            "in the Christian era; used before dates after the supposed year Christ was born");
}

TEST(ChatDataWordnet, BadInputNamesFileAndPackage) {
  const std::string e = error_text([] { wordnet_read("/nonexistent/wordnet"); });
  EXPECT_NE(e.find("data.noun"), std::string::npos) << e;
  EXPECT_NE(e.find("apt-get install wordnet-base"), std::string::npos) << e;
  EXPECT_NE(error_text([] {
              wordnet_parse("00001740 03 n 01 entity 0 000\n", "d.noun");
            }).find("d.noun:1"),
            std::string::npos);
  EXPECT_NE(error_text([] {
              wordnet_parse("00001740 03 n 03 entity 0 | x\n", "d.noun");
            }).find("truncated word list"),
            std::string::npos);
}

std::vector<std::string> words_of(const std::string& s) {
  std::vector<std::string> w;
  std::istringstream in(s);
  for (std::string x; in >> x;) w.push_back(x);
  return w;
}

// A rejected answer made from the right one: a loop (a prefix of the answer, then one
// window of 2–3 of its words repeated, 6+ words longer) or the wrong form (`form`).
// Returns false for the kinds taken from another item (checked by the caller).
bool check_made_up(const ChatExample& x, const std::string& form) {
  if (x.rejected_kind == "wrong_form") {
    EXPECT_EQ(x.rejected, form) << x.prompt;
    return true;
  }
  if (x.rejected_kind != "loop") {
    EXPECT_TRUE(x.rejected_kind == "neighbour" || x.rejected_kind == "other") << x.rejected_kind;
    return false;
  }
  const std::vector<std::string> a = words_of(x.answer), r = words_of(x.rejected);
  if (!r.empty() && r.size() <= a.size() && r.back().size() == 24) {
    // A stutter: a[0..k) and then a[k]'s first 2 bytes 12 times.
    const std::size_t k = r.size() - 1;
    for (std::size_t i = 0; i < k; ++i) EXPECT_EQ(r[i], a[i]) << x.rejected;
    std::string st;
    for (int i = 0; i < 12; ++i) st += a[k].substr(0, 2);
    EXPECT_EQ(r.back(), st) << x.answer << " -> " << x.rejected;
    return true;
  }
  EXPECT_GE(r.size(), a.size() + 6) << x.rejected;
  bool found = false;  // some k in {2,3} and start s: r = a[0..s+k) then a[s..s+k) repeated
  for (std::size_t k = 2; k <= 3 && !found; ++k)
    for (std::size_t st = 0; st + k <= a.size() && !found; ++st) {
      bool ok = r.size() >= st + k;
      for (std::size_t i = 0; ok && i < r.size(); ++i)
        ok = r[i] == (i < st + k ? a[i] : a[st + (i - st) % k]);
      found = ok;
    }
  EXPECT_TRUE(found) << x.answer << " -> " << x.rejected;
  return true;
}

// Independent checks of every example against the parsed sources.
void check_against_sources(const ChatDataSet& set) {
  std::map<std::string, std::string> text_of;  // reference -> verse text
  std::set<std::string> references;
  for (const KjvVerse& v : bible())
    text_of[v.reference()] = v.text, references.insert(v.reference());
  std::map<std::string, std::vector<const WordnetSynset*>> synsets_of_word;
  std::set<std::string> glosses;
  for (const WordnetSynset& s : wordnet()) {
    glosses.insert(s.definition);
    for (const std::string& w : s.words) synsets_of_word[w].push_back(&s);
  }
  auto between = [](const std::string& s, const std::string& a, const std::string& b) {
    const std::size_t i = s.find(a) + a.size();
    return s.substr(i, s.rfind(b) - i);
  };
  for (const auto* split : {&set.train, &set.test}) {
    for (const ChatExample& x : *split) {
      ASSERT_NE(x.answer, x.rejected) << x.prompt;
      if (x.kind == "quote") {
        const std::string ref = between(x.prompt, "Quote ", ".");
        EXPECT_EQ(x.answer, text_of.at(ref)) << x.prompt;
        EXPECT_EQ(x.item, "kjv:" + ref);
        if (!check_made_up(x, ref)) {
          bool real = false;  // the wrong answer is another verse's text
          for (const auto& [r, t] : text_of) real = real || (t == x.rejected && r != ref);
          EXPECT_TRUE(real) << x.rejected;
        }
      } else if (x.kind == "finish") {
        const std::string ref = x.item.substr(4);
        const std::string start = between(x.prompt, "Finish this verse: ", "");
        EXPECT_EQ(start + " " + x.answer, text_of.at(ref));
        int starts = 0;  // brute force: no other verse begins with the prompt's words
        for (const auto& [r, t] : text_of) starts += t.rfind(start + " ", 0) == 0;
        EXPECT_EQ(starts, 1) << start;
        if (!check_made_up(x, ref)) {
          bool real = false;  // the wrong answer ends another verse
          for (const auto& [r, t] : text_of)
            real = real ||
                   (r != ref && t.size() > x.rejected.size() &&
                    t.compare(t.size() - x.rejected.size(), x.rejected.size(), x.rejected) == 0);
          EXPECT_TRUE(real) << x.rejected;
        }
      } else if (x.kind == "where") {
        const std::string phrase = between(x.prompt, "Where does it say '", "'?");
        int hits = 0;  // brute force: the phrase occurs in exactly one verse, the answer
        for (const auto& [r, t] : text_of) hits += t.find(phrase) != std::string::npos;
        EXPECT_EQ(hits, 1) << phrase;
        EXPECT_NE(text_of.at(x.answer).find(phrase), std::string::npos);
        // Only loops and the wrong form (the verse's own text) for "where".
        if (!check_made_up(x, text_of.at(x.answer))) ADD_FAILURE() << x.rejected_kind;
      } else {
        ASSERT_EQ(x.kind, "define");
        const std::string word = between(x.prompt, "What does '", "' mean?");
        ASSERT_EQ(synsets_of_word[word].size(), 1u) << word;
        EXPECT_EQ(x.answer, synsets_of_word[word][0]->definition);
        if (!check_made_up(x, "'" + word + "'")) EXPECT_TRUE(glosses.count(x.rejected)) << x.rejected;
      }
    }
  }
}

TEST(ChatDataBuild, AnswersMatchSourcesAndSplitsAreDisjoint) {
  if (bible().empty() || wordnet().empty()) GTEST_SKIP() << "bible-kjv or wordnet-base missing";
  ChatDataBuildOptions o;
  o.seed = 7;
  o.test_fraction = 0.2;
  o.max_examples = 800;
  const ChatDataSet set = chat_data_build(bible(), wordnet(), o);
  EXPECT_LE(set.train.size() + set.test.size(), 800u);
  EXPECT_GE(set.train.size() + set.test.size(), 700u);
  std::map<std::string, int> kinds;
  for (const auto& x : set.train) ++kinds[x.kind];
  for (const char* k : {"quote", "finish", "where", "define"}) EXPECT_GT(kinds[k], 50) << k;
  std::map<std::string, int> rejected_kinds;  // every kind of wrong answer occurs
  for (const auto& x : set.train) ++rejected_kinds[x.rejected_kind];
  for (const char* k : {"neighbour", "other", "loop", "wrong_form"})
    EXPECT_GT(rejected_kinds[k], 60) << k;
  EXPECT_EQ(rejected_kinds.size(), 4u);
  const double frac = static_cast<double>(set.test.size()) /
                      static_cast<double>(set.train.size() + set.test.size());
  EXPECT_NEAR(frac, 0.2, 0.05);
  check_against_sources(set);
  // No item, prompt or answer of the test split is seen in training (not even as a
  // rejected answer).
  std::set<std::string> train_items, train_texts;
  for (const auto& x : set.train) {
    train_items.insert(x.item);
    train_texts.insert(x.prompt);
    train_texts.insert(x.answer);
    train_texts.insert(x.rejected);
  }
  for (const auto& x : set.test) {
    EXPECT_FALSE(train_items.count(x.item)) << x.item;
    EXPECT_FALSE(train_texts.count(x.prompt)) << x.prompt;
    EXPECT_FALSE(train_texts.count(x.answer)) << x.answer;
  }
}

TEST(ChatDataBuild, SameSeedSameSetOtherSeedOtherSet) {
  if (bible().empty() || wordnet().empty()) GTEST_SKIP() << "bible-kjv or wordnet-base missing";
  ChatDataBuildOptions o;
  o.max_examples = 200;
  auto prompts = [&](std::uint64_t seed) {
    o.seed = seed;
    const ChatDataSet s = chat_data_build(bible(), wordnet(), o);
    std::vector<std::string> p;
    for (const auto* split : {&s.train, &s.test})
      for (const auto& x : *split) p.push_back(x.prompt + "|" + x.answer + "|" + x.rejected);
    return p;
  };
  EXPECT_EQ(prompts(3), prompts(3));
  EXPECT_NE(prompts(3), prompts(4));
  o.test_fraction = 1.5;
  EXPECT_THROW(chat_data_build(bible(), wordnet(), o), Error);
}

ChatDataSet tiny_set() {
  return {
      {{"kjv:Genesis 1:3", "quote", "Quote Genesis 1:3.",
        "And God said, Let there be light: and there was light.",
        "And God saw the light, that it was good: and God divided the light from the darkness."},
       {"wordnet:n00002452", "define", "What does 'thing' mean?",
        "a separate and \"self-contained\" entity", "an entity that has physical existence"}},
      {{"kjv:Genesis 1:1", "where", "Where does it say 'In the beginning God'?", "Genesis 1:1",
        "Genesis 1:2"}}};
}

TEST(ChatDataFiles, JsonlParsesAndNothingIsOverwritten) {
  const fs::path dir = temp_dir("weft_chat_data_files");
  chat_data_write(tiny_set(), dir.string(), "{}\n");
  std::vector<json> sft, pairs, eval;
  for (const auto& [name, rows] :
       {std::pair{"sft_train.jsonl", &sft}, std::pair{"pairs_train.jsonl", &pairs},
        std::pair{"eval_test.jsonl", &eval}}) {
    std::istringstream in(test::read_all(dir / name));
    for (std::string line; std::getline(in, line);) rows->push_back(json::parse(line));
  }
  ASSERT_EQ(sft.size(), 2u);
  EXPECT_EQ(sft[1]["messages"][0]["role"], "user");
  EXPECT_EQ(sft[1]["messages"][0]["content"], "What does 'thing' mean?");
  EXPECT_EQ(sft[1]["messages"][1]["role"], "assistant");
  EXPECT_EQ(sft[1]["messages"][1]["content"], "a separate and \"self-contained\" entity");
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0]["prompt"], "Quote Genesis 1:3.");
  EXPECT_EQ(pairs[0]["chosen"], "And God said, Let there be light: and there was light.");
  EXPECT_EQ(
      pairs[0]["rejected"],
      "And God saw the light, that it was good: and God divided the light from the darkness.");
  ASSERT_EQ(eval.size(), 1u);
  EXPECT_EQ(eval[0]["prompt"], "Where does it say 'In the beginning God'?");
  EXPECT_EQ(eval[0]["answer"], "Genesis 1:1");
  EXPECT_EQ(eval[0]["kind"], "where");
  // A second write into the same folder fails before touching any file.
  const std::string before = test::read_all(dir / "sft_train.jsonl");
  ChatDataSet other = tiny_set();
  other.train.pop_back();
  const std::string e = error_text([&] { chat_data_write(other, dir.string(), "{}\n"); });
  EXPECT_NE(e.find("already exists"), std::string::npos) << e;
  EXPECT_EQ(test::read_all(dir / "sft_train.jsonl"), before);
  fs::remove_all(dir);
}

TEST(ChatDataTemplate, AssistantMaskCoversExactlyReplyAndEnd) {
  const Tokenizer& tok = test::gpt2_tokenizer();
  for (const ChatExample& x : tiny_set().train) {
    const json row = {{"messages", json::array({{{"role", "user"}, {"content", x.prompt}},
                                                {{"role", "assistant"}, {"content", x.answer}}})}};
    // Parse the rendered JSONL row back, as the SFT loader will.
    std::vector<ChatMessage> msgs;
    const json parsed = json::parse(row.dump());
    for (const json& m : parsed["messages"])
      msgs.push_back({chat_role_parse(m["role"].get<std::string>()), m["content"]});
    const ChatTokens ct = chat_render(tok, msgs);
    std::vector<std::uint32_t> masked;
    for (std::size_t i = 0; i < ct.ids.size(); ++i)
      if (ct.assistant_mask[i]) masked.push_back(ct.ids[i]);
    // Independent expectation: GPT-2's encoding of the answer, then <|end|>; and the
    // masked tokens are the tail of the sequence (nothing of the prompt is in it).
    std::vector<std::uint32_t> want = tok.encode(x.answer);
    want.push_back(tok.special_ids().end);
    EXPECT_EQ(masked, want);
    EXPECT_TRUE(std::equal(want.rbegin(), want.rend(), ct.ids.rbegin()));
    EXPECT_EQ(tok.decode(std::span(masked.data(), masked.size() - 1)), x.answer);
    EXPECT_EQ(ct.ids[ct.ids.size() - want.size() - 1], tok.special_ids().assistant);
  }
}

TEST(ChatDataCli, DeterministicFilesAndClearErrors) {
  if (bible().empty() || wordnet().empty()) GTEST_SKIP() << "bible-kjv or wordnet-base missing";
  const fs::path a = temp_dir("weft_chat_cli_a"), b = temp_dir("weft_chat_cli_b");
  auto run = [](const std::string& args, int* status) {
    return test::run_capture(std::string(WEFT_EXE) + " data chat " + args + " 2>&1", status);
  };
  int st = -1;
  const std::string common = " --seed 5 --max-examples 120 --test-fraction 0.25";
  run("--out " + a.string() + common, &st);
  EXPECT_EQ(st, 0);
  run("--out " + b.string() + common, &st);
  EXPECT_EQ(st, 0);
  for (const std::string& name : chat_data_file_names()) {
    const std::string fa = test::read_all(a / name);
    EXPECT_FALSE(fa.empty()) << name;
    EXPECT_EQ(fa, test::read_all(b / name)) << name;
  }
  std::string out = run("--out " + a.string() + common, &st);
  EXPECT_NE(st, 0);
  EXPECT_NE(out.find("already exists"), std::string::npos) << out;
  out = run("--source wordnet --wordnet-dir /nonexistent --out " + (a / "x").string(), &st);
  EXPECT_NE(st, 0);
  EXPECT_NE(out.find("wordnet-base"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(a / "x"));
  out = run("--source bible --out " + (a / "y").string(), &st);
  EXPECT_NE(st, 0);
  EXPECT_NE(out.find("kjv, wordnet or both"), std::string::npos) << out;
  fs::remove_all(a);
  fs::remove_all(b);
}

}  // namespace
