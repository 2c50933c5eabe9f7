// Token shard files in llm.c's format: a 1024-byte header of 256 little-endian int32
// (magic 20240520, version 1, token count, rest zero) followed by that many uint16
// tokens. Shards made by llm.c's data scripts load as they are.
// Plain functions; any thread may call them (each call opens its own file).
// Writing is atomic: a temp file in the same directory, fsync, rename, fsync dir.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace weft::data {

inline constexpr std::int32_t kShardMagic = 20240520;
inline constexpr std::int32_t kShardVersion = 1;
inline constexpr std::size_t kShardHeaderInts = 256;
inline constexpr std::size_t kShardHeaderBytes = kShardHeaderInts * sizeof(std::int32_t);
// The largest vocabulary weft writes into shards: ids must fit uint16 (llm.c
// asserts vocab < 2^16 the same way).
inline constexpr std::int64_t kShardMaxVocab = 65535;

// The 1024 header bytes for a shard of `num_tokens` tokens.
std::vector<std::uint8_t> shard_header_encode(std::uint64_t num_tokens);

// Validates a header read from `name` (a path or URL, for messages) whose whole
// size is `file_size` bytes (pass 0 when unknown to skip the size check). Returns
// the token count. Throws weft::Error (kInput) naming the file and the field.
std::uint64_t shard_header_decode(const std::uint8_t* header /* 1024 bytes */,
                                  std::uint64_t file_size, const std::string& name);

// Reads and validates only the header of the shard at `path`; returns its token count.
std::uint64_t shard_read_header(const std::string& path);

// Reads the whole shard. When vocab_size > 0 every token id must be < vocab_size.
std::vector<std::uint16_t> shard_read(const std::string& path, std::int64_t vocab_size = 0);

// Reads tokens [offset, offset + count) of the shard into out[count] (header
// validated; the range must lie inside the shard). Token ids are checked against
// vocab_size when it is > 0.
void shard_read_range(const std::string& path, std::uint64_t offset, std::uint64_t count,
                      std::uint16_t* out, std::int64_t vocab_size = 0);

// Throws kInput naming `name` if any token id is >= vocab_size (no-op for vocab_size <= 0).
// `first_index` is the index of tokens[0] in the shard, for the message.
void shard_check_ids(std::span<const std::uint16_t> tokens, std::int64_t vocab_size,
                     const std::string& name, std::uint64_t first_index = 0);

// Writes a shard atomically: `path` either keeps its old contents or holds the
// complete new shard, never a partial one (temp file + fsync + rename + dir fsync).
// durable = false skips the fsyncs (scratch files that are cheap to remake).
void shard_write(const std::string& path, std::span<const std::uint16_t> tokens,
                 bool durable = true);

}  // namespace weft::data
