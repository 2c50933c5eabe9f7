// Writes the fine-tuning stage tests' inputs into DIR for the CLI tests of
// tests/train/tests.cmake (thread ranks and mpirun): tok.json, base.bin (a random tiny
// model), sft.jsonl, pairs.jsonl. Usage: weft_stage_fixture DIR
#include <cstdio>
#include <exception>

#include "stage_test_util.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  try {
    namespace st = weft::stage_test;
    const st::fs::path dir(argv[1]);
    st::fs::create_directories(dir);
    const std::string tok = st::make_tokenizer(dir);
    st::make_base_model(dir, static_cast<int>(weft::data::Tokenizer::load(tok).vocab_size()));
    st::write_sft_jsonl(dir / "sft.jsonl");
    st::write_pairs(dir / "pairs.jsonl", 64, 1);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "weft_stage_fixture: %s\n", e.what());
    return 1;
  }
  return 0;
}
