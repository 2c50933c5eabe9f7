// `weft data prepare|verify`: parses options and calls the data pipeline
// (data/etl_prepare.hpp). Runs on the main thread; prepare forks worker processes.
#include <algorithm>
#include <cstdio>
#include <thread>

#include "cli/command_registry.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "data/etl_prepare.hpp"
#include "data/tokenizer_encoder.hpp"

namespace {

using weft::str;
namespace data = weft::data;

struct PrepareArgs {
  std::vector<std::string> inputs;
  std::string corpus;
  std::string jsonl_field = "text";
  std::string tokenizer = "gpt2";
  std::string out;
  int workers = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::uint64_t shard_tokens = 100'000'000;
  double val_fraction = 0.01;
  bool quiet = false;
};

int run_prepare(const PrepareArgs& a) {
  if (a.inputs.empty() == a.corpus.empty()) {
    throw weft::input_error("weft data prepare: give either --input FILES_OR_DIRS or --corpus kjv");
  }
  if (!a.corpus.empty() && a.corpus != "kjv") {
    throw weft::input_error(str("--corpus '", a.corpus, "': the only built-in corpus is 'kjv'"));
  }
  data::TokenizerEncoder encoder(data::tokenizer_load_spec(a.tokenizer), a.tokenizer);
  auto sources =
      a.corpus == "kjv" ? data::etl_sources_kjv() : data::etl_sources_from_paths(a.inputs);
  data::PrepareOptions o;
  o.out_dir = a.out;
  o.workers = a.workers;
  o.shard_tokens = a.shard_tokens;
  o.plan.jsonl_field = a.jsonl_field;
  o.plan.val_fraction = a.val_fraction;
  o.progress = !a.quiet;
  const auto r = data::etl_prepare(std::move(sources), encoder, o);
  if (r.bytes_tokenized > 0) {
    std::printf("tokenized %s in %.2f s: %s/s, %s tokens/s with %d worker(s)\n",
                weft::format_bytes(static_cast<double>(r.bytes_tokenized)).c_str(), r.seconds,
                weft::format_bytes(static_cast<double>(r.bytes_tokenized) / r.seconds).c_str(),
                weft::format_count(static_cast<double>(r.tokens_tokenized) / r.seconds).c_str(),
                a.workers);
  }
  std::printf("%s/manifest.json: %zu train shards (%llu tokens), %zu val shards (%llu tokens)\n",
              a.out.c_str(), r.manifest.split_shards("train").size(),
              static_cast<unsigned long long>(r.manifest.split_tokens("train")),
              r.manifest.split_shards("val").size(),
              static_cast<unsigned long long>(r.manifest.split_tokens("val")));
  return 0;
}

std::function<int()> setup_data(CLI::App& app) {
  app.require_subcommand(1);
  auto args = std::make_shared<PrepareArgs>();
  CLI::App* prep = app.add_subcommand(
      "prepare",
      "Tokenize text/JSONL files or a built-in corpus into llm.c token shards + manifest.json");
  prep->add_option("--input", args->inputs, "Text files, .jsonl files or directories (recursive)");
  prep->add_option("--corpus", args->corpus,
                   "Built-in corpus: kjv (King James Bible, Debian bible-kjv)");
  prep->add_option("--jsonl-field", args->jsonl_field,
                   "Field of each JSONL line that holds the text")
      ->capture_default_str();
  prep->add_option("--tokenizer", args->tokenizer,
                   "gpt2, a weft tokenizer .json, a tiktoken file or a GPT-2 folder")
      ->capture_default_str();
  prep->add_option("--out", args->out, "Output directory for shards and manifest.json")->required();
  prep->add_option("--workers", args->workers, "Worker processes")->capture_default_str();
  prep->add_option("--shard-tokens", args->shard_tokens, "Tokens per shard")->capture_default_str();
  prep->add_option("--val-fraction", args->val_fraction, "Fraction of the input for the val split")
      ->capture_default_str();
  prep->add_flag("--quiet", args->quiet, "No progress bar");

  auto manifest = std::make_shared<std::string>();
  CLI::App* verify = app.add_subcommand(
      "verify", "Check every shard listed in a manifest.json (exists, header, SHA-256)");
  verify->add_option("manifest", *manifest, "Path of manifest.json")->required();

  return [prep, verify, args, manifest]() -> int {
    if (prep->parsed()) return run_prepare(*args);
    if (verify->parsed()) {
      data::etl_verify(*manifest);
      std::printf("%s: all shards intact\n", manifest->c_str());
      return 0;
    }
    return 1;
  };
}

WEFT_COMMAND("data", "Prepare token shards from a corpus (parallel ETL) and check them", 20,
             setup_data);

}  // namespace
