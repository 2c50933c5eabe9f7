// Shard files: llm.c's byte layout (checked against hand-made bytes, not our own
// writer), header validation, id checks, atomic replacement.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "data/shard_file.hpp"

namespace weft::data {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("weft_shard_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_bytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A shard built byte by byte as llm.c's Python writer lays it out.
std::vector<char> handmade_shard(std::int32_t magic, std::int32_t version, std::int32_t count,
                                 const std::vector<std::uint16_t>& tokens) {
  std::vector<char> b(1024, 0);
  auto put32 = [&](std::size_t at, std::int32_t v) {
    for (int i = 0; i < 4; ++i)
      b[at + i] = static_cast<char>((static_cast<std::uint32_t>(v) >> (8 * i)) & 0xff);
  };
  put32(0, magic);
  put32(4, version);
  put32(8, count);
  for (auto t : tokens) {
    b.push_back(static_cast<char>(t & 0xff));
    b.push_back(static_cast<char>(t >> 8));
  }
  return b;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(DataShardFile, WriterProducesLlmcBytes) {
  TempDir dir;
  const std::vector<std::uint16_t> tokens = {50256, 0, 1, 258, 65535, 7};
  shard_write(dir / "a.bin", tokens);
  EXPECT_EQ(read_bytes(dir / "a.bin"), handmade_shard(20240520, 1, 6, tokens));
}

TEST(DataShardFile, ReadsHandmadeShardWholeAndRange) {
  TempDir dir;
  const std::vector<std::uint16_t> tokens = {10, 20, 30, 40, 50};
  write_bytes(dir / "b.bin", handmade_shard(20240520, 1, 5, tokens));
  EXPECT_EQ(shard_read_header(dir / "b.bin"), 5u);
  EXPECT_EQ(shard_read(dir / "b.bin"), tokens);
  std::uint16_t mid[3];
  shard_read_range(dir / "b.bin", 1, 3, mid);
  EXPECT_EQ(mid[0], 20);
  EXPECT_EQ(mid[2], 40);
  EXPECT_NE(error_of([&] { shard_read_range(dir / "b.bin", 3, 3, mid); }).find("holds only 5"),
            std::string::npos);
}

TEST(DataShardFile, EmptyShardRoundTrips) {
  TempDir dir;
  shard_write(dir / "e.bin", {});
  EXPECT_EQ(shard_read_header(dir / "e.bin"), 0u);
  EXPECT_TRUE(shard_read(dir / "e.bin").empty());
}

TEST(DataShardFile, BadHeadersNameFileAndField) {
  TempDir dir;
  const std::vector<std::uint16_t> t = {1, 2, 3};
  write_bytes(dir / "magic.bin", handmade_shard(20240326, 1, 3, t));
  write_bytes(dir / "version.bin", handmade_shard(20240520, 2, 3, t));
  write_bytes(dir / "short.bin", handmade_shard(20240520, 1, 4, t));
  write_bytes(dir / "long.bin", handmade_shard(20240520, 1, 2, t));
  write_bytes(dir / "tiny.bin", std::vector<char>(100, 0));
  const auto m = error_of([&] { shard_read(dir / "magic.bin"); });
  EXPECT_NE(m.find("magic.bin"), std::string::npos) << m;
  EXPECT_NE(m.find("wrong magic 20240326"), std::string::npos) << m;
  EXPECT_NE(error_of([&] { shard_read(dir / "version.bin"); }).find("unsupported version 2"),
            std::string::npos);
  EXPECT_NE(error_of([&] { shard_read(dir / "short.bin"); }).find("truncated"), std::string::npos);
  EXPECT_NE(error_of([&] { shard_read_header(dir / "long.bin"); }).find("trailing data"),
            std::string::npos);
  EXPECT_NE(
      error_of([&] { shard_read(dir / "tiny.bin"); }).find("shorter than the 1024-byte header"),
      std::string::npos);
  EXPECT_NE(error_of([&] { shard_read(dir / "missing.bin"); }).find("missing.bin"),
            std::string::npos);
}

TEST(DataShardFile, IdsAtOrAboveVocabRejected) {
  TempDir dir;
  shard_write(dir / "v.bin", std::vector<std::uint16_t>{5, 99, 100, 3});
  EXPECT_NO_THROW(shard_read(dir / "v.bin", 101));
  const auto m = error_of([&] { shard_read(dir / "v.bin", 100); });
  EXPECT_NE(m.find("v.bin"), std::string::npos) << m;
  EXPECT_NE(m.find("token 2 has id 100"), std::string::npos) << m;
  std::uint16_t out[2];
  EXPECT_NE(
      error_of([&] { shard_read_range(dir / "v.bin", 1, 2, out, 100); }).find("token 2 has id 100"),
      std::string::npos);
}

TEST(DataShardFile, WriteReplacesWholeFileAndLeavesNoTemp) {
  TempDir dir;
  shard_write(dir / "r.bin", std::vector<std::uint16_t>(1000, 1));
  shard_write(dir / "r.bin", std::vector<std::uint16_t>{9, 8});
  EXPECT_EQ(shard_read(dir / "r.bin"), (std::vector<std::uint16_t>{9, 8}));
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(DataShardFile, FailedWriteKeepsExistingTarget) {
  TempDir dir;
  // The target is a non-empty directory: rename must fail, and it must survive intact.
  fs::create_directories(dir.path / "keep.bin");
  write_bytes(dir / "keep.bin/inside", {'x'});
  EXPECT_THROW(shard_write(dir / "keep.bin", std::vector<std::uint16_t>{1}), Error);
  EXPECT_TRUE(fs::exists(dir.path / "keep.bin" / "inside"));
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path)) ++entries;
  EXPECT_EQ(entries, 1);  // no temp file left behind
  // A directory that does not exist: clear I/O error naming the path.
  EXPECT_NE(error_of([&] {
              shard_write(dir / "no/such/dir.bin", std::vector<std::uint16_t>{1});
            }).find("no/such/dir.bin"),
            std::string::npos);
}

}  // namespace
}  // namespace weft::data
