// Random access to the tokens of one shard, wherever it lives: a local file (pread)
// or an http(s):// URL (HTTP range requests through libcurl, blocks cached on local
// disk). The loader reads only the slice of each batch its rank needs.
// A ShardReader is owned by one loader; one thread at a time may call it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace weft::data {

class ShardReader {
 public:
  virtual ~ShardReader() = default;
  virtual std::uint64_t num_tokens() const = 0;
  // out[count] = tokens [offset, offset + count); the range must lie in the shard.
  virtual void read(std::uint64_t offset, std::uint64_t count, std::uint16_t* out) = 0;
  virtual const std::string& name() const = 0;
};

struct ShardOpenOptions {
  std::string cache_dir;            // remote shards: where fetched blocks are kept
  std::string expect_sha256;        // local shards: checked on open when not empty
  std::int64_t expect_tokens = -1;  // checked against the header when >= 0
};

bool is_url(const std::string& path);

// Opens and validates (header, size, optional SHA-256 / token count) a shard.
// Throws weft::Error naming the shard.
std::unique_ptr<ShardReader> shard_open(const std::string& path_or_url,
                                        const ShardOpenOptions& options);

// The default cache directory for remote shards: $WEFT_CACHE_DIR, else
// $XDG_CACHE_HOME/weft/shards, else ~/.cache/weft/shards.
std::string shard_default_cache_dir();

}  // namespace weft::data
