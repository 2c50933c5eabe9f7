// llm.c checkpoint and debug-state reading/writing. See llmc_checkpoint.hpp.
#include "model/llmc_checkpoint.hpp"

#include <cstdio>
#include <cstring>
#include <memory>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "model/param_layout.hpp"

namespace weft::model {
namespace {

constexpr int kHeaderInts = 256;
constexpr long kHeaderBytes = kHeaderInts * 4;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File open_read(const std::string& path) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) throw io_error_errno("cannot open", path);
  return f;
}

long file_size(std::FILE* f, const std::string& path) {
  if (std::fseek(f, 0, SEEK_END) != 0) throw io_error_errno("cannot seek in", path);
  const long size = std::ftell(f);
  if (size < 0 || std::fseek(f, 0, SEEK_SET) != 0) throw io_error_errno("cannot seek in", path);
  return size;
}

// Reads exactly `bytes` or throws an error saying the file is truncated at `what`.
void read_exact(std::FILE* f, void* dst, std::size_t bytes, const std::string& path,
                const std::string& what) {
  if (std::fread(dst, 1, bytes, f) != bytes) {
    if (std::ferror(f)) throw io_error_errno("cannot read", path);
    throw input_error(str(path, ": file is truncated while reading ", what));
  }
}

std::string regen_hint() {
  return "the file is not a valid llm.c file of this version: regenerate it (llm.c's "
         "train_gpt2.py, tools/make_reference.py or `weft train`)";
}

GptConfig parse_model_header(const std::int32_t* h, const std::string& path, int* version) {
  if (h[0] != kLlmcModelMagic)
    throw input_error(str(path, ": header[0] (magic) = ", h[0], ", expected ", kLlmcModelMagic,
                          " (llm.c GPT-2 checkpoint)"),
                      regen_hint());
  if (h[1] != kLlmcModelVersionFp32 && h[1] != kLlmcModelVersionBf16)
    throw input_error(str(path, ": header[1] (version) = ", h[1], ", expected ",
                          kLlmcModelVersionFp32, " (float32) or ", kLlmcModelVersionBf16, " (bf16)"),
                      regen_hint());
  if (version) *version = h[1];
  const char* names[] = {"max_seq", "vocab", "n_layer", "n_head", "n_embd", "padded_vocab"};
  for (int i = 2; i <= 7; ++i)
    if (h[i] <= 0)
      throw input_error(str(path, ": header[", i, "] (", names[i - 2], ") = ", h[i],
                            " must be positive"), regen_hint());
  GptConfig c;
  c.max_seq = h[2];
  c.vocab = h[3];
  c.n_layer = h[4];
  c.n_head = h[5];
  c.n_embd = h[6];
  c.padded_vocab = h[7];
  try {
    c.validate(str(path, " header"));
  } catch (const Error& e) {
    throw input_error(e.what(), regen_hint());
  }
  return c;
}

}  // namespace

GptConfig llmc_read_model_header(const std::string& path, int* version) {
  File f = open_read(path);
  std::int32_t h[kHeaderInts];
  read_exact(f.get(), h, sizeof h, path, "the 256-int header");
  return parse_model_header(h, path, version);
}

LlmcModel llmc_load_model(const std::string& path) {
  File f = open_read(path);
  const long size = file_size(f.get(), path);
  std::int32_t h[kHeaderInts];
  read_exact(f.get(), h, sizeof h, path, "the 256-int header");
  LlmcModel m;
  m.config = parse_model_header(h, path, &m.version);
  const std::size_t n = m.config.num_params();
  const std::size_t elem = m.version == kLlmcModelVersionFp32 ? 4 : 2;
  const long expected = kHeaderBytes + static_cast<long>(n * elem);
  if (size < expected)
    throw input_error(str(path, ": file is truncated: ", size, " bytes, the header (",
                          m.config.describe(), ", version ", m.version, ") needs ", expected),
                      regen_hint());
  if (size > expected)
    throw input_error(str(path, ": file has ", size - expected,
                          " bytes more than its header (", m.config.describe(), ", version ",
                          m.version, ") describes"),
                      regen_hint());
  m.params.allocate(n, /*zero=*/false);
  if (elem == 4) {
    read_exact(f.get(), m.params.data(), n * 4, path, "the parameters");
  } else {
    // bf16 is the upper half of a float32: widening is exact.
    std::vector<std::uint16_t> raw(n);
    read_exact(f.get(), raw.data(), n * 2, path, "the parameters");
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t bits = static_cast<std::uint32_t>(raw[i]) << 16;
      std::memcpy(&m.params[i], &bits, 4);
    }
  }
  return m;
}

void llmc_save_model(const std::string& path, const GptConfig& c, const float* params) {
  c.validate(path);
  std::int32_t h[kHeaderInts] = {};
  h[0] = kLlmcModelMagic;
  h[1] = kLlmcModelVersionFp32;
  h[2] = c.max_seq;
  h[3] = c.vocab;
  h[4] = c.n_layer;
  h[5] = c.n_head;
  h[6] = c.n_embd;
  h[7] = c.padded_vocab;
  AtomicFileWriter w(path);
  w.write(h, sizeof h);
  w.write(params, c.num_params() * sizeof(float));
  w.commit();
}

LlmcDebugState llmc_load_debug_state(const std::string& path, const GptConfig& c) {
  File f = open_read(path);
  const long size = file_size(f.get(), path);
  std::int32_t h[kHeaderInts];
  read_exact(f.get(), h, sizeof h, path, "the 256-int header");
  if (h[0] != kLlmcStateMagic)
    throw input_error(str(path, ": header[0] (magic) = ", h[0], ", expected ", kLlmcStateMagic,
                          " (llm.c debug state)"), regen_hint());
  if (h[1] != kLlmcStateVersion)
    throw input_error(str(path, ": header[1] (version) = ", h[1], ", expected ",
                          kLlmcStateVersion), regen_hint());
  LlmcDebugState s;
  s.B = h[2];
  s.T = h[3];
  if (s.B <= 0) throw input_error(str(path, ": header[2] (B) = ", s.B, " must be positive"));
  if (s.T <= 0 || s.T > c.max_seq)
    throw input_error(str(path, ": header[3] (T) = ", s.T, " must be in 1..", c.max_seq,
                          " (the model's max_seq)"));
  const std::size_t BT = static_cast<std::size_t>(s.B) * s.T;
  const std::size_t n = c.num_params();
  const long expected =
      kHeaderBytes + static_cast<long>(BT * 4 * 2 + BT * c.vocab * 4 + 4 + n * 4);
  if (size != expected)
    throw input_error(str(path, ": file has ", size, " bytes, but B=", s.B, " T=", s.T,
                          " and the model (", c.describe(), ") need ", expected,
                          size < expected ? " (truncated?)" : ""),
                      "was the state made for this model.bin?");
  s.x.resize(BT);
  s.y.resize(BT);
  read_exact(f.get(), s.x.data(), BT * 4, path, "x");
  read_exact(f.get(), s.y.data(), BT * 4, path, "y");
  for (std::size_t i = 0; i < BT; ++i) {
    if (s.x[i] < 0 || s.x[i] >= c.vocab)
      throw input_error(str(path, ": x[", i, "] = ", s.x[i], " is outside the vocabulary 0..",
                            c.vocab - 1));
    if (s.y[i] < 0 || s.y[i] >= c.vocab)
      throw input_error(str(path, ": y[", i, "] = ", s.y[i], " is outside the vocabulary 0..",
                            c.vocab - 1));
  }
  s.logits.allocate(BT * c.vocab, false);
  read_exact(f.get(), s.logits.data(), s.logits.bytes(), path, "logits");
  read_exact(f.get(), &s.loss, 4, path, "loss");
  s.grads.allocate(n, false);
  read_exact(f.get(), s.grads.data(), s.grads.bytes(), path, "grads");
  return s;
}

void llmc_save_debug_state(const std::string& path, const GptConfig& c, const LlmcDebugState& s) {
  const std::size_t BT = static_cast<std::size_t>(s.B) * s.T;
  WEFT_CHECK(s.x.size() == BT && s.y.size() == BT && s.logits.size() == BT * c.vocab &&
             s.grads.size() == c.num_params());
  std::int32_t h[kHeaderInts] = {};
  h[0] = kLlmcStateMagic;
  h[1] = kLlmcStateVersion;
  h[2] = s.B;
  h[3] = s.T;
  AtomicFileWriter w(path);
  w.write(h, sizeof h);
  w.write(s.x.data(), BT * 4);
  w.write(s.y.data(), BT * 4);
  w.write(s.logits.data(), s.logits.bytes());
  w.write(&s.loss, 4);
  w.write(s.grads.data(), s.grads.bytes());
  w.commit();
}

}  // namespace weft::model
