// `weft data prepare`: tokenizes a corpus into llm.c token shards with N worker
// processes (fork; tokenization is CPU-bound and each unit is independent), writes
// every shard atomically, records it in manifest.json right after, and on a re-run
// skips what is finished (checked by SHA-256). Killing a run loses nothing finished.
// Call from the main thread of a process that has no other threads running (fork).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/etl_plan.hpp"
#include "data/manifest.hpp"
#include "data/token_encoder.hpp"

namespace weft::data {

struct PrepareOptions {
  std::string out_dir;
  int workers = 1;  // worker processes
  std::uint64_t shard_tokens =
      100'000'000;       // tokens per shard (the last of a split may hold fewer)
  PlanSettings plan;     // JSONL field, val fraction, unit size
  bool progress = true;  // progress bar on stderr
};

struct PrepareResult {
  Manifest manifest;
  std::uint64_t bytes_tokenized = 0;   // input bytes tokenized in this run
  std::uint64_t tokens_tokenized = 0;  // tokens produced in this run
  int shards_written = 0;
  int shards_kept = 0;  // finished shards from an earlier run, verified and skipped
  double seconds = 0;
};

PrepareResult etl_prepare(std::vector<Source> sources, const TokenEncoder& encoder,
                          const PrepareOptions& options);

// Checks every shard listed in `manifest_path` exists, has a valid header with the
// listed token count and the listed SHA-256. Throws kInput naming the first bad shard.
void etl_verify(const std::string& manifest_path);

}  // namespace weft::data
