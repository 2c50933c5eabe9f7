// manifest.json beside a set of token shards (docs/formats.md, "Data manifest"):
// the tokenizer that made them, the shard list with token counts and SHA-256, the
// train/val split and (while `weft data prepare` runs) where each shard ended in the
// work plan, so a re-run resumes after the last finished shard. Value types; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace weft::data {

inline constexpr int kManifestVersion = 1;
inline constexpr const char* kManifestFormat = "weft-data-manifest";

struct ManifestShard {
  std::string file;   // relative to the manifest's directory, absolute, or an http(s):// URL
  std::string split;  // "train" or "val"
  std::uint64_t tokens = 0;
  std::string sha256;  // of the whole file (header + tokens)
  // Position in the split's unit stream just after this shard's last token.
  std::uint64_t end_unit = 0, end_token = 0;
};

struct Manifest {
  bool complete = false;
  std::string tokenizer_name;
  std::string tokenizer_hash;
  std::uint32_t vocab_size = 0;
  std::uint32_t eot_id = 0;
  std::string plan_hash;
  std::uint64_t shard_tokens = 0;
  double val_fraction = 0;
  std::vector<std::string> inputs;
  std::vector<ManifestShard> shards;

  std::uint64_t split_tokens(const std::string& split) const;
  std::vector<const ManifestShard*> split_shards(const std::string& split) const;
};

// Parses manifest text; `name` (path or URL) is used in error messages.
Manifest manifest_parse(const std::string& text, const std::string& name);
std::string manifest_dump(const Manifest& m);
// Reads a local manifest.json (kInput error naming the file on any problem).
Manifest manifest_read(const std::string& path);
// Writes atomically (temp + fsync + rename).
void manifest_write(const std::string& path, const Manifest& m);

}  // namespace weft::data
