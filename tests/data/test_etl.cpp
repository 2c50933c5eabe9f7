// `weft data prepare` (library level) with a byte-level test encoder: the shards'
// token stream equals the one built independently from the input bytes; worker
// count does not change the output; resume after kill; bad input.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <map>

#include "data/checksum.hpp"
#include "data/etl_plan.hpp"
#include "data/etl_prepare.hpp"
#include "data/manifest.hpp"
#include "data/shard_file.hpp"
#include "data_test_util.hpp"

namespace weft::data {
namespace {

using namespace weft::data::testing;

// A few text files of different lengths with lines of varying shape.
std::vector<std::string> make_corpus(const TempDir& dir) {
  std::vector<std::string> names = {"b/two.txt", "a.txt", "b/c/three.txt"};
  std::vector<std::string> paths;
  for (std::size_t f = 0; f < names.size(); ++f) {
    std::string text;
    for (int line = 0; line < 150 * static_cast<int>(f + 1); ++line) {
      text += "file " + std::to_string(f) + " line " + std::to_string(line) +
              (line % 7 == 0 ? "  \n" : ".\n");
      if (line % 11 == 0) text += "\n";
    }
    write_file(dir / ("in/" + names[f]), text);
  }
  write_file(dir / "in/.hidden.txt", "not read");
  return {dir / "in"};
}

// The expected train stream when val_fraction = 0: for each file in sorted path
// order, <|endoftext|> then its bytes.
std::vector<std::uint16_t> expected_stream(const TempDir& dir) {
  std::vector<std::uint16_t> out;
  for (const char* name : {"in/a.txt", "in/b/c/three.txt", "in/b/two.txt"}) {
    out.push_back(256);
    for (unsigned char c : read_file(dir / name)) out.push_back(c);
  }
  return out;
}

std::vector<std::uint16_t> concat_split(const Manifest& m, const std::string& out_dir,
                                        const std::string& split) {
  std::vector<std::uint16_t> all;
  for (const auto* s : m.split_shards(split)) {
    const auto t = shard_read(out_dir + "/" + s->file, m.vocab_size);
    EXPECT_EQ(t.size(), s->tokens);
    all.insert(all.end(), t.begin(), t.end());
  }
  return all;
}

PrepareOptions options(const std::string& out, int workers, std::uint64_t shard_tokens = 1000) {
  PrepareOptions o;
  o.out_dir = out;
  o.workers = workers;
  o.shard_tokens = shard_tokens;
  o.plan.unit_bytes = 512;
  o.progress = false;
  return o;
}

TEST(DataEtl, ShardsHoldExactlyTheDocumentsInOrder) {
  TempDir dir;
  const auto inputs = make_corpus(dir);
  ByteEncoder enc;
  const auto r = etl_prepare(etl_sources_from_paths(inputs), enc, options(dir / "out", 2));
  const Manifest m = manifest_read(dir / "out/manifest.json");
  EXPECT_TRUE(m.complete);
  EXPECT_EQ(m.inputs.size(), 3u);  // the hidden file is skipped
  const auto expect = expected_stream(dir);
  EXPECT_EQ(concat_split(m, dir / "out", "train"), expect);
  EXPECT_TRUE(m.split_shards("val").empty());
  ASSERT_EQ(m.shards.size(), (expect.size() + 999) / 1000);
  for (std::size_t i = 0; i + 1 < m.shards.size(); ++i) EXPECT_EQ(m.shards[i].tokens, 1000u);
  EXPECT_EQ(r.tokens_tokenized, expect.size());
  // Checksums agree with coreutils' sha256sum (an independent implementation).
  for (const auto& s : m.shards) {
    EXPECT_EQ(run_command("sha256sum " + dir / ("out/" + s.file)).substr(0, 64), s.sha256);
  }
  // The work directory is gone after a complete run.
  for (const auto& e : fs::directory_iterator(dir / "out")) {
    EXPECT_EQ(e.path().filename().string().find(".work"), std::string::npos);
  }
}

TEST(DataEtl, WorkerCountDoesNotChangeOutput) {
  TempDir dir;
  const auto inputs = make_corpus(dir);
  ByteEncoder enc;
  auto o1 = options(dir / "w1", 1);
  auto o3 = options(dir / "w3", 3);
  o1.plan.val_fraction = o3.plan.val_fraction = 0.2;
  etl_prepare(etl_sources_from_paths(inputs), enc, o1);
  etl_prepare(etl_sources_from_paths(inputs), enc, o3);
  EXPECT_EQ(read_file(dir / "w1/manifest.json"), read_file(dir / "w3/manifest.json"));
  const Manifest m = manifest_read(dir / "w1/manifest.json");
  for (const auto& s : m.shards)
    EXPECT_EQ(read_file(dir / ("w1/" + s.file)), read_file(dir / ("w3/" + s.file)));
}

TEST(DataEtl, ValSplitPartitionsTheBytes) {
  TempDir dir;
  const auto inputs = make_corpus(dir);
  ByteEncoder enc;
  auto o = options(dir / "out", 2);
  o.plan.val_fraction = 0.2;
  etl_prepare(etl_sources_from_paths(inputs), enc, o);
  const Manifest m = manifest_read(dir / "out/manifest.json");
  const auto train = concat_split(m, dir / "out", "train");
  const auto val = concat_split(m, dir / "out", "val");
  ASSERT_FALSE(val.empty());
  // Every input byte lands in exactly one split: equal byte histograms.
  std::map<std::uint16_t, long> want, got;
  for (auto t : expected_stream(dir)) want[t] += t != 256;
  for (auto t : train) got[t] += t != 256;
  for (auto t : val) got[t] += t != 256;
  EXPECT_EQ(want, got);
  const double frac =
      static_cast<double>(val.size()) / static_cast<double>(train.size() + val.size());
  EXPECT_GT(frac, 0.1);
  EXPECT_LT(frac, 0.3);
  EXPECT_EQ(val.front(), 256);  // a split's stream starts with <|endoftext|>
}

TEST(DataEtl, JsonlDocumentsAndBadLines) {
  TempDir dir;
  write_file(dir / "d.jsonl",
             "{\"text\": \"hello\", \"id\": 1}\n\n{\"text\": \"w\\u00f6rld\\n\"}\n");
  ByteEncoder enc;
  etl_prepare(etl_sources_from_paths({dir / "d.jsonl"}), enc, options(dir / "out", 1));
  const Manifest m = manifest_read(dir / "out/manifest.json");
  std::vector<std::uint16_t> expect = {256, 'h',  'e',  'l', 'l', 'o', 256,
                                       'w', 0xC3, 0xB6, 'r', 'l', 'd', '\n'};
  EXPECT_EQ(concat_split(m, dir / "out", "train"), expect);

  write_file(dir / "bad.jsonl", "{\"text\": \"ok\"}\n{\"body\": \"x\"}\n");
  auto msg = error_of([&] {
    etl_prepare(etl_sources_from_paths({dir / "bad.jsonl"}), enc, options(dir / "o2", 1));
  });
  EXPECT_NE(msg.find("bad.jsonl"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line at byte 15 has no string field 'text'"), std::string::npos) << msg;
  write_file(dir / "broken.jsonl", "{\"text\": \"ok\"\n");
  msg = error_of([&] {
    etl_prepare(etl_sources_from_paths({dir / "broken.jsonl"}), enc, options(dir / "o3", 1));
  });
  EXPECT_NE(msg.find("broken.jsonl': line at byte 0 is not valid JSON"), std::string::npos) << msg;
}

TEST(DataEtl, TextIsCutOnlyBeforeNewlinesAfterNonSpace) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 400; ++i) {
    text += (i % 3 == 0) ? "x\t \n" : (i % 3 == 1) ? "caf\xC3\xA9 \xE3\x80\x80\n" : "word\r\n";
    text += (i % 5 == 0) ? "na\xC3\xAFve.\n" : "";
  }
  write_file(dir / "t.txt", text);
  PlanSettings s;
  s.unit_bytes = 64;
  const Plan plan = etl_make_plan(etl_sources_from_paths({dir / "t.txt"}), s);
  ASSERT_GT(plan.units.size(), 10u);
  for (std::size_t i = 0; i + 1 < plan.units.size(); ++i) {
    const auto cut = plan.units[i].end;
    EXPECT_EQ(plan.units[i + 1].begin, cut);
    ASSERT_EQ(text[cut], '\n');
    // Only after "." (the only line end here not preceded by space, \r, U+3000).
    EXPECT_EQ(text[cut - 1], '.') << "cut at " << cut;
  }
  EXPECT_EQ(plan.units.back().end, text.size());
}

// Runs prepare in a child process with a slow encoder and SIGKILLs it once the
// manifest lists `min_shards` finished shards. Returns the manifest seen then.
Manifest run_and_kill(const std::vector<std::string>& inputs, const PrepareOptions& o,
                      std::size_t min_shards) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ByteEncoder slow(25);
    try {
      etl_prepare(etl_sources_from_paths(inputs), slow, o);
    } catch (...) {
    }
    ::_exit(0);
  }
  Manifest seen;
  for (int i = 0; i < 2000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    try {
      seen = manifest_read(o.out_dir + "/manifest.json");
      if (seen.shards.size() >= min_shards) break;
    } catch (const Error&) {
    }
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return seen;
}

TEST(DataEtl, KilledRunResumesWithoutRedoingFinishedShards) {
  TempDir dir;
  const auto inputs = make_corpus(dir);
  ByteEncoder enc;
  auto o = options(dir / "out", 2);
  o.plan.val_fraction = 0.1;
  const Manifest partial = run_and_kill(inputs, o, 3);
  ASSERT_GE(partial.shards.size(), 3u);
  ASSERT_FALSE(partial.complete) << "the run finished before it was killed; slow the encoder down";
  std::map<std::string, std::pair<ino_t, std::string>> before;
  for (const auto& s : partial.shards) {
    struct stat st {};
    ASSERT_EQ(::stat((dir / ("out/" + s.file)).c_str(), &st), 0);
    before[s.file] = {st.st_ino, read_file(dir / ("out/" + s.file))};
  }
  const auto r = etl_prepare(etl_sources_from_paths(inputs), enc, o);
  EXPECT_GE(r.shards_kept, static_cast<int>(partial.shards.size()));
  for (const auto& [file, info] : before) {
    struct stat st {};
    ASSERT_EQ(::stat((dir / ("out/" + file)).c_str(), &st), 0);
    EXPECT_EQ(st.st_ino, info.first) << file << " was rewritten";
    EXPECT_EQ(read_file(dir / ("out/" + file)), info.second);
  }
  // Same result as one uninterrupted run.
  auto o2 = o;
  o2.out_dir = dir / "ref";
  etl_prepare(etl_sources_from_paths(inputs), enc, o2);
  EXPECT_EQ(read_file(dir / "out/manifest.json"), read_file(dir / "ref/manifest.json"));
  const Manifest m = manifest_read(dir / "ref/manifest.json");
  for (const auto& s : m.shards)
    EXPECT_EQ(read_file(dir / ("out/" + s.file)), read_file(dir / ("ref/" + s.file)));
}

TEST(DataEtl, RerunSkipsFinishedAndRedoesChangedShards) {
  TempDir dir;
  const auto inputs = make_corpus(dir);
  ByteEncoder enc;
  const auto o = options(dir / "out", 2);
  etl_prepare(etl_sources_from_paths(inputs), enc, o);
  const std::string manifest = read_file(dir / "out/manifest.json");
  const Manifest m = manifest_read(dir / "out/manifest.json");
  auto again = etl_prepare(etl_sources_from_paths(inputs), enc, o);
  EXPECT_EQ(again.shards_written, 0);
  EXPECT_EQ(again.tokens_tokenized, 0u);
  // Damage shard 2 of 6+: it and the later ones are redone, 0 and 1 are kept.
  ASSERT_GE(m.shards.size(), 4u);
  const std::string victim = dir / ("out/" + m.shards[2].file);
  const std::string good = read_file(victim);
  std::string bad = good;
  bad[2000] ^= 1;
  write_file(victim, bad);
  again = etl_prepare(etl_sources_from_paths(inputs), enc, o);
  EXPECT_EQ(again.shards_kept, 2);
  EXPECT_EQ(again.shards_written, static_cast<int>(m.shards.size()) - 2);
  EXPECT_EQ(read_file(victim), good);
  EXPECT_EQ(read_file(dir / "out/manifest.json"), manifest);
}

TEST(DataEtl, BadInputsNameTheFileAndKeepExistingData) {
  TempDir dir;
  ByteEncoder enc;
  write_file(dir / "empty.txt", "");
  write_file(dir / "nul.txt", std::string("abc\0def", 7));
  std::string noise;
  for (int i = 0; i < 4096; ++i) noise += static_cast<char>(0x80 + (i * 37) % 64);
  write_file(dir / "latin.txt", noise);
  auto msg = error_of([&] { etl_sources_from_paths({dir / "empty.txt"}); });
  EXPECT_NE(msg.find("empty.txt': file is empty"), std::string::npos) << msg;
  msg = error_of([&] { etl_sources_from_paths({dir / "nul.txt"}); });
  EXPECT_NE(msg.find("nul.txt': binary data (NUL byte at byte 3)"), std::string::npos) << msg;
  msg = error_of([&] { etl_sources_from_paths({dir / "latin.txt"}); });
  EXPECT_NE(msg.find("latin.txt': 4096 of 4096 bytes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not valid UTF-8"), std::string::npos) << msg;
  msg = error_of([&] { etl_sources_from_paths({dir / "nope"}); });
  EXPECT_NE(msg.find("nope': no such file"), std::string::npos) << msg;
  // NUL far into a file (past the sample the planner checks): the worker finds it.
  std::string late(200000, 'a');
  late[150000] = '\0';
  write_file(dir / "late.txt", late);
  msg = error_of([&] {
    etl_prepare(etl_sources_from_paths({dir / "late.txt"}), enc, options(dir / "o1", 2));
  });
  EXPECT_NE(msg.find("late.txt': binary data (NUL byte at byte 150000)"), std::string::npos) << msg;

  // A vocabulary too large for uint16 shards.
  write_file(dir / "ok.txt", "fine text\n");
  ByteEncoder big(0, 70000);
  msg = error_of(
      [&] { etl_prepare(etl_sources_from_paths({dir / "ok.txt"}), big, options(dir / "o2", 1)); });
  EXPECT_NE(msg.find("tokenizer 'bytes' has 70000 tokens"), std::string::npos) << msg;

  // Other settings into a finished directory: refused, nothing touched.
  etl_prepare(etl_sources_from_paths({dir / "ok.txt"}), enc, options(dir / "o3", 1));
  const std::string before = read_file(dir / "o3/manifest.json");
  msg = error_of([&] {
    etl_prepare(etl_sources_from_paths({dir / "ok.txt"}), enc, options(dir / "o3", 1, 7));
  });
  EXPECT_NE(msg.find("holds shards of another run"), std::string::npos) << msg;
  EXPECT_EQ(read_file(dir / "o3/manifest.json"), before);
  // Shard files without a manifest: refused.
  write_file(dir / "o4/train_000000.bin", "precious");
  msg = error_of(
      [&] { etl_prepare(etl_sources_from_paths({dir / "ok.txt"}), enc, options(dir / "o4", 1)); });
  EXPECT_NE(msg.find("no manifest.json"), std::string::npos) << msg;
  EXPECT_EQ(read_file(dir / "o4/train_000000.bin"), "precious");
}

TEST(DataEtl, VerifyFindsMissingAndChangedShards) {
  TempDir dir;
  const auto inputs = make_corpus(dir);
  ByteEncoder enc;
  etl_prepare(etl_sources_from_paths(inputs), enc, options(dir / "out", 1));
  EXPECT_NO_THROW(etl_verify(dir / "out/manifest.json"));
  const Manifest m = manifest_read(dir / "out/manifest.json");
  std::string t = read_file(dir / ("out/" + m.shards[1].file));
  t[1500] ^= 4;
  write_file(dir / ("out/" + m.shards[1].file), t);
  auto msg = error_of([&] { etl_verify(dir / "out/manifest.json"); });
  EXPECT_NE(msg.find(m.shards[1].file + "' changed"), std::string::npos) << msg;
  fs::remove(dir / ("out/" + m.shards[0].file));
  msg = error_of([&] { etl_verify(dir / "out/manifest.json"); });
  EXPECT_NE(msg.find(m.shards[0].file + "', which is missing"), std::string::npos) << msg;
}

TEST(DataEtl, KjvCorpusHas66Books) {
  if (run_command("command -v bible").empty()) GTEST_SKIP() << "bible-kjv not installed";
  const auto books = etl_sources_kjv();
  ASSERT_EQ(books.size(), 66u);
  EXPECT_EQ(books.front().name, "kjv:Ge");
  EXPECT_EQ(books.front().text->substr(0, 55),
            "In the beginning God created the heaven and the earth.\n");
  const std::string& rev = *books.back().text;
  EXPECT_EQ(rev.substr(rev.size() - 58),
            "The grace of our Lord Jesus Christ be with you all. Amen.\n");
  // Verse count from the raw program output, counted independently.
  std::size_t lines = 0;
  for (const auto& b : books)
    lines += static_cast<std::size_t>(std::count(b.text->begin(), b.text->end(), '\n'));
  EXPECT_EQ(lines,
            31102u + 1189u - 66u);  // verses + one blank line between chapters (1189 chapters)
}

}  // namespace
}  // namespace weft::data
