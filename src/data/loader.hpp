// Distributed data loader over token shards (llm.c format, local or http(s)://).
//
// Global batch: R ranks × B rows × T tokens. Each step reads one window of
// G + 1 tokens (G = R·B·T) from one shard; rank r gets rows [r·B, (r+1)·B) of it:
//   inputs[b·T + t]  = window[(r·B + b)·T + t]        // (B, T)
//   targets[b·T + t] = window[(r·B + b)·T + t + 1]    // (B, T)
// so the R ranks' slices together are exactly the batch one rank with R·B rows
// reads. Order: per epoch the shards are visited in a seeded permutation, and the
// windows inside a shard too (shuffle = false: file order). A shard's tail shorter
// than a window is not used. The next batch is read on a background thread while
// the caller trains on the current one. state()/restore() give the exact position
// (epoch, shard, batch, seed) for checkpoints: resuming repeats and skips nothing,
// also under another R as long as R·B·T is unchanged.
// One thread owns a DataLoader; it starts and joins its own prefetch thread.
#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "data/shard_reader.hpp"

namespace weft::data {

struct LoaderConfig {
  // manifest.json (path or http(s):// URL), or a glob of shard files ("dir/*_train_*.bin",
  // e.g. llm.c's) read in sorted order without checksums.
  std::string source;
  std::string split = "train";  // manifests only
  int B = 4;                    // rows per rank
  int T = 64;                   // tokens per row
  int rank = 0;
  int world = 1;
  std::uint64_t seed = 1337;
  bool shuffle = true;
  bool prefetch = true;          // read the next batch on a background thread
  bool verify_checksums = true;  // local shards: SHA-256 vs manifest when first opened
  std::string cache_dir;         // remote shards; empty = shard_default_cache_dir()
};

// Where the loader is: the next batch next_batch() returns. JSON form in docs/formats.md.
struct LoaderState {
  std::uint64_t seed = 0;
  std::uint64_t epoch = 0;
  std::uint64_t shard_pos = 0;            // index into the epoch's shard order
  std::uint64_t batch_pos = 0;            // index into that shard's window order
  std::uint64_t global_batch_tokens = 0;  // R·B·T, must match on restore
  std::uint64_t steps = 0;                // batches returned so far (for logs)

  std::string to_json() const;
  // Throws kInput naming `name` on malformed JSON or missing fields.
  static LoaderState from_json(const std::string& text, const std::string& name = "loader state");
  bool operator==(const LoaderState&) const = default;
};

class DataLoader {
 public:
  explicit DataLoader(LoaderConfig config);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Fills inputs[B*T] and targets[B*T] (row-major (B, T)) with this rank's slice of
  // the next global batch. Rethrows errors of the prefetch thread (bad shard, network).
  void next_batch(std::int32_t* inputs, std::int32_t* targets);

  LoaderState state() const;
  // Continues from `state` (from state() of a loader over the same data and global batch).
  void restore(const LoaderState& state);

  std::uint32_t vocab_size() const { return vocab_size_; }  // 0 when unknown (glob source)
  std::uint64_t batches_per_epoch() const { return batches_per_epoch_; }
  std::uint64_t num_shards() const { return shards_.size(); }

 private:
  struct Shard {
    std::string path;
    std::uint64_t tokens;
    std::string sha256;
    std::uint64_t windows;  // (tokens - 1) / G
    std::unique_ptr<ShardReader> reader;
  };
  struct Batch {
    std::vector<std::uint16_t> tokens;  // B*T + 1
  };

  Batch read_batch(LoaderState pos);
  LoaderState advance(LoaderState pos) const;
  std::vector<std::uint64_t> shard_order(std::uint64_t seed, std::uint64_t epoch) const;
  std::uint64_t window_index(const LoaderState& pos, std::uint64_t shard) const;
  void start_prefetch();

  LoaderConfig cfg_;
  std::uint64_t G_ = 0;  // R*B*T
  std::uint32_t vocab_size_ = 0;
  std::vector<Shard> shards_;  // usable shards (windows > 0), in manifest order
  std::uint64_t batches_per_epoch_ = 0;
  LoaderState pos_;             // next batch to return
  std::future<Batch> pending_;  // prefetch of pos_
};

}  // namespace weft::data
