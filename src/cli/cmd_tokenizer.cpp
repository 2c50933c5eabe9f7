// `weft tokenizer train|encode|decode|info`: parses options and calls data::Tokenizer.
// Runs on the main thread; training starts its own OpenMP team.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/command_registry.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/timer.hpp"
#include "data/tokenizer.hpp"

namespace {

namespace fs = std::filesystem;
using weft::str;
using weft::data::Tokenizer;

std::string read_input(const std::string& path) {
  std::ostringstream buf;
  if (path.empty() || path == "-") {
    buf << std::cin.rdbuf();
    return buf.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw weft::io_error_errno("cannot open input", path);
  buf << in.rdbuf();
  return buf.str();
}

// Writes to `path` (or stdout for "" / "-"); a file is written under a temporary
// name and renamed, so a failure never leaves a half-written output.
void write_output(const std::string& path, const std::string& data) {
  if (path.empty() || path == "-") {
    std::fwrite(data.data(), 1, data.size(), stdout);
    std::fflush(stdout);
    return;
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw weft::io_error_errno("cannot create", tmp);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out.flush()) throw weft::io_error_errno("cannot write", tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw weft::io_error_errno("cannot rename to", path);
}

void check_format(const std::string& format) {
  if (format != "text" && format != "u16" && format != "u32")
    throw weft::input_error(str("--format '", format, "': expected text, u16 or u32"));
}

int run_encode(const std::string& spec, const std::string& input, const std::string& output,
               const std::string& format, bool specials) {
  check_format(format);
  const Tokenizer tok = weft::data::tokenizer_load_spec(spec);
  const std::string text = read_input(input);
  auto encode = [&](std::string_view s) {
    return specials ? tok.encode_with_specials(s) : tok.encode(s);
  };
  std::string out;
  if (format == "text") {
    // One line of ids per input line (the line's '\n' is encoded with it).
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t end = text.find('\n', pos);
      end = end == std::string::npos ? text.size() : end + 1;
      const auto ids = encode(std::string_view(text).substr(pos, end - pos));
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i) out += ' ';
        out += std::to_string(ids[i]);
      }
      out += '\n';
      pos = end;
    }
  } else {
    const auto ids = encode(text);
    const int width = format == "u16" ? 2 : 4;
    if (width == 2 && tok.vocab_size() > 65536)
      throw weft::input_error(
          str("--format u16: vocabulary of ", tok.vocab_size(), " tokens does not fit 16 bits"),
          "use --format u32");
    out.reserve(ids.size() * width);
    for (uint32_t id : ids)
      for (int b = 0; b < width; ++b) out += static_cast<char>((id >> (8 * b)) & 0xFF);
  }
  write_output(output, out);
  return 0;
}

int run_decode(const std::string& spec, const std::string& input, const std::string& output,
               const std::string& format) {
  check_format(format);
  const Tokenizer tok = weft::data::tokenizer_load_spec(spec);
  const std::string data = read_input(input);
  std::string out;
  const std::string where = input.empty() || input == "-" ? "stdin" : input;
  if (format == "text") {
    std::istringstream lines(data);
    std::string line;
    std::size_t line_no = 0;
    std::vector<uint32_t> ids;
    while (std::getline(lines, line)) {
      ++line_no;
      ids.clear();
      std::istringstream fields(line);
      std::string field;
      while (fields >> field) {
        char* end = nullptr;
        const unsigned long v = std::strtoul(field.c_str(), &end, 10);
        if (*end != '\0' || field[0] == '-' || v > 0xFFFFFFFFul)
          throw weft::input_error(str(where, ":", line_no, ": '", field, "' is not a token id"));
        ids.push_back(static_cast<uint32_t>(v));
      }
      try {
        out += tok.decode(ids);
      } catch (const weft::Error& e) {
        throw weft::input_error(str(where, ":", line_no, ": ", e.what()), e.hint());
      }
    }
  } else {
    const std::size_t width = format == "u16" ? 2 : 4;
    if (data.size() % width != 0)
      throw weft::input_error(
          str(where, ": ", data.size(), " bytes is not a whole number of ", format, " ids"));
    std::vector<uint32_t> ids(data.size() / width);
    for (std::size_t i = 0; i < ids.size(); ++i)
      for (std::size_t b = 0; b < width; ++b)
        ids[i] |= uint32_t{static_cast<unsigned char>(data[i * width + b])} << (8 * b);
    out = tok.decode(ids);
  }
  write_output(output, out);
  return 0;
}

int run_train(const std::vector<std::string>& inputs, uint32_t vocab_size, const std::string& out,
              int threads, bool force, bool quiet) {
  if (fs::exists(out) && !force)
    throw weft::input_error(str(out, " already exists; not overwriting it"),
                            "pass --force to replace it");
  std::vector<std::string> texts;
  std::size_t bytes = 0;
  for (const auto& path : inputs) {
    texts.push_back(read_input(path));
    bytes += texts.back().size();
  }
  if (bytes == 0) throw weft::input_error("tokenizer train: the input files are empty");
  std::vector<std::string_view> views(texts.begin(), texts.end());
  weft::Stopwatch watch;
  const Tokenizer tok = weft::data::tokenizer_train(views, {vocab_size, threads, !quiet});
  const double seconds = watch.seconds();
  tok.save(out);
  weft::log_info("tokenizer train: ", bytes, " bytes -> ", tok.vocab_size(), " tokens (",
                 tok.n_mergeable() - 256, " merges) in ", seconds, " s; wrote ", out, " sha256 ",
                 tok.content_hash());
  return 0;
}

int run_info(const std::string& spec) {
  const Tokenizer tok = weft::data::tokenizer_load_spec(spec);
  const auto sp = tok.special_ids();
  std::printf(
      "vocab_size   %u\nmergeable    %u\nendoftext    %u\nsystem       %u\nuser         %u\n"
      "assistant    %u\nend          %u\nsha256       %s\n",
      tok.vocab_size(), tok.n_mergeable(), sp.endoftext, sp.system, sp.user, sp.assistant, sp.end,
      tok.content_hash().c_str());
  return 0;
}

struct Options {
  std::string tokenizer = "gpt2", input, output, format = "text", out;
  std::vector<std::string> inputs;
  uint32_t vocab_size = 8192;
  int threads = 0;
  bool specials = false, force = false, quiet = false;
};

std::function<int()> setup_tokenizer(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.require_subcommand(1);
  const char* tok_help =
      "gpt2 (GPT-2's files), a weft tokenizer .json, a folder with encoder.json + "
      "vocab.bpe, or a tiktoken rank file";
  auto* train = app.add_subcommand("train", "Learn BPE merges on text files");
  train->add_option("--input", o->inputs, "text files")->required()->check(CLI::ExistingFile);
  train->add_option("--vocab-size", o->vocab_size, "total tokens incl. 5 specials")
      ->capture_default_str();
  train->add_option("--out", o->out, "tokenizer file to write (.json)")->required();
  train->add_option("--threads", o->threads, "counting threads (0 = all)");
  train->add_flag("--force", o->force, "overwrite --out if it exists");
  train->add_flag("--quiet", o->quiet, "no progress bar");

  auto* encode = app.add_subcommand("encode", "Text -> token ids");
  auto* decode = app.add_subcommand("decode", "Token ids -> text");
  for (auto* sub : {encode, decode}) {
    sub->add_option("--tokenizer", o->tokenizer, tok_help)->capture_default_str();
    sub->add_option("--input,-i", o->input, "input file (default stdin)");
    sub->add_option("--output,-o", o->output, "output file (default stdout)");
    sub->add_option("--format", o->format,
                    "text: one line of ids per text line; u16/u32: little-endian "
                    "ids of the whole input")
        ->capture_default_str();
  }
  encode->add_flag("--specials", o->specials,
                   "recognise <|endoftext|>, <|user|>, ... as special tokens");
  auto* info = app.add_subcommand("info", "Vocabulary size, special ids, content hash");
  info->add_option("--tokenizer", o->tokenizer, tok_help)->capture_default_str();

  return [o, train, encode, decode, info]() -> int {
    if (train->parsed())
      return run_train(o->inputs, o->vocab_size, o->out, o->threads, o->force, o->quiet);
    if (encode->parsed())
      return run_encode(o->tokenizer, o->input, o->output, o->format, o->specials);
    if (decode->parsed()) return run_decode(o->tokenizer, o->input, o->output, o->format);
    if (info->parsed()) return run_info(o->tokenizer);
    return 2;
  };
}

WEFT_COMMAND("tokenizer", "Train a byte-level BPE tokenizer; encode and decode text", 200,
             setup_tokenizer);

}  // namespace
