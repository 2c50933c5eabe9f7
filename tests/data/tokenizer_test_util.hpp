// Helpers shared by the tokenizer tests: the GPT-2 tokenizer from tests/fixtures
// (loaded once per process, read-only afterwards) and small file utilities.
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "data/tokenizer.hpp"

namespace weft::data::test {

inline const Tokenizer& gpt2_tokenizer() {
  static const Tokenizer tok = Tokenizer::load_gpt2(WEFT_FIXTURES_DIR "/gpt2/encoder.json",
                                                    WEFT_FIXTURES_DIR "/gpt2/vocab.bpe");
  return tok;
}

inline std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_all(const std::filesystem::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

// stdout of a shell command; empty if it failed.
inline std::string run_capture(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return out;
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  const int rc = ::pclose(f);
  if (status) *status = rc;
  return out;
}

// A fresh empty directory under the system temp dir, removed by the destructor.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/weft_tok_test_XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace weft::data::test
