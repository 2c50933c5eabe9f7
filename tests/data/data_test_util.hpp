// Helpers shared by the data tests: a temp directory, file I/O, a byte-level test
// encoder (id = byte, <|endoftext|> = 256) that stands in for a real tokenizer.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "data/token_encoder.hpp"

namespace weft::data::testing {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path = fs::temp_directory_path() / (std::string("weft_data_") + info->test_suite_name() + "_" +
                                        info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline void write_file(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Output of a shell command (for independent reference tools such as sha256sum).
inline std::string run_command(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

// id = byte value; <|endoftext|> = 256. Optional delay per call to make runs slow.
class ByteEncoder : public TokenEncoder {
 public:
  explicit ByteEncoder(int delay_ms = 0, std::uint32_t vocab = 257)
      : delay_ms_(delay_ms), vocab_(vocab) {}
  void encode_append(std::string_view text, std::vector<std::uint32_t>& out) const override {
    if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
    for (unsigned char c : text) out.push_back(c);
  }
  std::uint32_t vocab_size() const override { return vocab_; }
  std::uint32_t eot_id() const override { return 256; }
  std::string content_hash() const override { return "byte-encoder-v1"; }
  std::string name() const override { return "bytes"; }

 private:
  int delay_ms_;
  std::uint32_t vocab_;
};

}  // namespace weft::data::testing
