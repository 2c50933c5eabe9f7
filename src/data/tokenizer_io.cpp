// Tokenizer files: GPT-2's encoder.json + vocab.bpe, tiktoken rank files, and weft's
// own versioned JSON file (docs/formats.md). Loaders return a new Tokenizer owned by
// the caller; any thread may call them. Every problem is a weft::Error naming the file.
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "data/tokenizer.hpp"
#include "data/tokenizer_impl.hpp"
#include "data/tokenizer_unicode.hpp"

namespace weft::data {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error_errno("cannot open tokenizer file", path.string());
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw io_error_errno("cannot read tokenizer file", path.string());
  return buf.str();
}

// GPT-2's byte ↔ unicode table: printable bytes map to themselves, the others to
// U+0100 upwards in byte order, so every token is a printable JSON string.
struct ByteUnicode {
  std::array<uint32_t, 256> to_cp{};
  std::array<int, 512> to_byte{};  // -1: not a mapped code point
  ByteUnicode() {
    to_byte.fill(-1);
    uint32_t extra = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      to_cp[b] = printable ? static_cast<uint32_t>(b) : extra++;
      to_byte[to_cp[b]] = b;
    }
  }
};
const ByteUnicode kByteUnicode;

// The order GPT-2 gives the 256 single-byte tokens (ids 0..255): printable ones first.
std::vector<int> gpt2_byte_order() {
  std::vector<int> order;
  for (int pass = 0; pass < 2; ++pass)
    for (int b = 0; b < 256; ++b)
      if ((kByteUnicode.to_cp[b] == static_cast<uint32_t>(b)) == (pass == 0)) order.push_back(b);
  return order;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string bytes_to_unicode_string(std::string_view bytes) {
  std::string out;
  for (unsigned char b : bytes) append_utf8(out, kByteUnicode.to_cp[b]);
  return out;
}

// Inverse of bytes_to_unicode_string; empty optional if `s` holds an unmapped character.
std::optional<std::string> unicode_string_to_bytes(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const unicode::Decoded d = unicode::utf8_decode(s, i);
    if (d.cp >= kByteUnicode.to_byte.size() || kByteUnicode.to_byte[d.cp] < 0) return std::nullopt;
    out += static_cast<char>(kByteUnicode.to_byte[d.cp]);
    i += d.len;
  }
  return out;
}

json parse_json(const std::string& text, const fs::path& path) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw input_error(str(path.string(), ": not valid JSON (", e.what(), ")"));
  }
}

std::optional<std::string> base64_decode(std::string_view s) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!s.empty() && s.back() == '=') s.remove_suffix(1);
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    const int v = value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

Tokenizer load_weft_json(const json& j, const std::string& name);

}  // namespace

Tokenizer Tokenizer::load_gpt2(const fs::path& encoder_json, const fs::path& vocab_bpe) {
  // Ranks as tiktoken derives them: the 256 bytes in GPT-2's order, then one new
  // token per line of vocab.bpe, in file order.
  const std::string merges_text = read_file(vocab_bpe);
  std::vector<std::string> tokens;
  for (int b : gpt2_byte_order()) tokens.emplace_back(1, static_cast<char>(b));
  std::istringstream lines(merges_text);
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (line_no == 1 && line.starts_with("#version"))) continue;
    const std::size_t space = line.find(' ');
    if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
      throw input_error(str(vocab_bpe.string(), ":", line_no,
                            ": expected two tokens separated by one space, got '", line, "'"));
    auto a = unicode_string_to_bytes(std::string_view(line).substr(0, space));
    auto b = unicode_string_to_bytes(std::string_view(line).substr(space + 1));
    if (!a || !b)
      throw input_error(str(vocab_bpe.string(), ":", line_no,
                            ": a character outside GPT-2's byte-to-unicode table in '", line, "'"));
    tokens.push_back(*a + *b);
  }
  if (tokens.size() == 256)
    throw input_error(str(vocab_bpe.string(), ": no merges found"),
                      "is this GPT-2's vocab.bpe (one 'a b' merge per line)?");

  const json enc = parse_json(read_file(encoder_json), encoder_json);
  if (!enc.is_object())
    throw input_error(str(encoder_json.string(), ": expected a JSON object of token → id"));
  std::size_t seen = 0;
  for (const auto& [key, value] : enc.items()) {
    if (!value.is_number_unsigned())
      throw input_error(str(encoder_json.string(), ": the id of token '", key,
                            "' is not a non-negative integer"));
    const uint64_t id = value.get<uint64_t>();
    if (key == kSpecialTokenNames[0]) {
      if (id != tokens.size())
        throw input_error(str(encoder_json.string(), ": <|endoftext|> has id ", id, ", expected ",
                              tokens.size(), " (one past the last merge of ", vocab_bpe.string(),
                              ")"));
      continue;
    }
    auto bytes = unicode_string_to_bytes(key);
    if (!bytes)
      throw input_error(str(encoder_json.string(), ": token '", key,
                            "' has a character outside GPT-2's byte-to-unicode table"));
    if (id >= tokens.size() || tokens[id] != *bytes)
      throw input_error(str(encoder_json.string(), ": token '", key, "' has id ", id, " but ",
                            vocab_bpe.string(), " gives it another rank"),
                        "encoder.json and vocab.bpe must come from the same GPT-2 release");
    ++seen;
  }
  if (seen != tokens.size())
    throw input_error(str(encoder_json.string(), ": has ", seen, " tokens, ", vocab_bpe.string(),
                          " defines ", tokens.size()),
                      "encoder.json and vocab.bpe must come from the same GPT-2 release");
  return from_ranks(std::move(tokens));
}

Tokenizer Tokenizer::load_tiktoken(const fs::path& ranks_file) {
  const std::string text = read_file(ranks_file);
  std::vector<std::string> tokens;
  std::istringstream lines(text);
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::size_t space = line.find(' ');
    auto bytes = space == std::string::npos
                     ? std::nullopt
                     : base64_decode(std::string_view(line).substr(0, space));
    char* end = nullptr;
    errno = 0;
    const unsigned long long rank =
        space == std::string::npos ? 0 : std::strtoull(line.c_str() + space + 1, &end, 10);
    if (!bytes || bytes->empty() || end == nullptr || *end != '\0' || errno != 0)
      throw input_error(str(ranks_file.string(), ":", line_no,
                            ": expected '<base64 token> <rank>', got '", line.substr(0, 80), "'"));
    if (rank != tokens.size())
      throw input_error(str(ranks_file.string(), ":", line_no, ": rank ", rank, ", expected ",
                            tokens.size(), " (ranks must be 0, 1, 2, ... in order)"));
    tokens.push_back(std::move(*bytes));
  }
  return from_ranks(std::move(tokens));
}

Tokenizer Tokenizer::load(const fs::path& path) {
  try {
    return load_weft_json(parse_json(read_file(path), path), path.string());
  } catch (const json::exception& e) {  // a field of the wrong JSON type
    throw input_error(str(path.string(), ": malformed tokenizer file (", e.what(), ")"));
  }
}

namespace {
Tokenizer load_weft_json(const json& j, const std::string& name) {
  if (!j.is_object() || !j.contains("format") || j["format"] != "weft-tokenizer")
    throw input_error(
        str(name, ": not a weft tokenizer file (\"format\" is not \"weft-tokenizer\")"));
  if (!j.contains("version") || !j["version"].is_number_integer())
    throw input_error(str(name, ": missing integer field \"version\""));
  const int version = j["version"].get<int>();
  if (version != kTokenizerFileVersion)
    throw input_error(str(name, ": tokenizer file version ", version, "; this weft reads version ",
                          kTokenizerFileVersion),
                      "re-create it with this weft (weft tokenizer train / convert)");
  if (j.value("pattern", std::string()) != "gpt2")
    throw input_error(str(name, ": unknown pre-tokenisation pattern ",
                          j.contains("pattern") ? j["pattern"].dump() : "(missing)",
                          "; this weft knows \"gpt2\""));
  if (!j.contains("tokens") || !j["tokens"].is_array())
    throw input_error(str(name, ": missing array field \"tokens\""));
  std::vector<std::string> tokens;
  tokens.reserve(j["tokens"].size());
  for (const auto& t : j["tokens"]) {
    auto bytes = t.is_string() ? unicode_string_to_bytes(t.get<std::string>()) : std::nullopt;
    if (!bytes)
      throw input_error(
          str(name, ": token ", tokens.size(), " is not a string in GPT-2's byte-to-unicode form"));
    tokens.push_back(std::move(*bytes));
  }
  const std::size_t n = tokens.size();
  if (j.contains("specials")) {
    const json& sp = j["specials"];
    for (uint32_t i = 0; i < kNumSpecialTokens; ++i) {
      const std::string key(kSpecialTokenNames[i]);
      if (!sp.is_object() || !sp.contains(key) || !sp[key].is_number_unsigned() ||
          sp[key].get<uint64_t>() != n + i)
        throw input_error(str(name, ": special token ", key, " must have id ", n + i));
    }
  }
  Tokenizer tok = Tokenizer::from_ranks(std::move(tokens));
  if (j.contains("content_sha256") && j["content_sha256"] != tok.content_hash())
    throw input_error(
        str(name, ": content does not match its content_sha256 (file changed or corrupt)"));
  return tok;
}
}  // namespace

Tokenizer Tokenizer::load_any(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    const fs::path enc = path / "encoder.json";
    const fs::path bpe = path / "vocab.bpe";
    if (!fs::exists(enc) || !fs::exists(bpe))
      throw input_error(str(path.string(), ": a directory without encoder.json and vocab.bpe"));
    return load_gpt2(enc, bpe);
  }
  if (path.extension() == ".json") return load(path);
  return load_tiktoken(path);
}

void Tokenizer::save(const fs::path& path) const {
  const detail::Vocab& v = impl_->vocab;
  json j;
  j["format"] = "weft-tokenizer";
  j["version"] = kTokenizerFileVersion;
  j["pattern"] = "gpt2";
  j["unicode"] = std::string(unicode::kUnicodeVersion);
  j["n_mergeable"] = v.n_mergeable;
  j["content_sha256"] = v.content_hash;
  json specials = json::object();
  for (uint32_t i = 0; i < kNumSpecialTokens; ++i)
    specials[std::string(kSpecialTokenNames[i])] = v.n_mergeable + i;
  j["specials"] = specials;
  json tokens = json::array();
  for (uint32_t id = 0; id < v.n_mergeable; ++id)
    tokens.push_back(bytes_to_unicode_string(v.token(id)));
  j["tokens"] = std::move(tokens);

  const std::string text = j.dump(1) + "\n";
  const fs::path tmp = fs::path(path.string() + str(".tmp.", ::getpid()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw io_error_errno("cannot create", tmp.string());
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw io_error_errno("cannot write", tmp.string());
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw io_error(str("cannot rename ", tmp.string(), " to ", path.string(), ": ", ec.message()));
  }
}

}  // namespace weft::data

namespace weft::data {

Tokenizer tokenizer_load_spec(std::string_view spec) {
  namespace fs = std::filesystem;
  if (spec != "gpt2") return Tokenizer::load_any(fs::path(spec));
  std::vector<fs::path> tried;
  if (const char* env = std::getenv("WEFT_GPT2_DIR")) tried.emplace_back(env);
  std::error_code ec;
  fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (int up = 0; up < 5 && !ec && !dir.empty(); ++up, dir = dir.parent_path())
    tried.push_back(dir / "tests/fixtures/gpt2");
  tried.emplace_back("/usr/share/weft/gpt2");
  for (const fs::path& d : tried)
    if (fs::exists(d / "encoder.json", ec) && fs::exists(d / "vocab.bpe", ec))
      return Tokenizer::load_gpt2(d / "encoder.json", d / "vocab.bpe");
  throw input_error("tokenizer 'gpt2': cannot find GPT-2's encoder.json + vocab.bpe",
                    "set WEFT_GPT2_DIR to a folder holding them (weft's tests/fixtures/gpt2)");
}

}  // namespace weft::data
