// llm.c token shard reading, validation and atomic writing. See shard_file.hpp.
#include "data/shard_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace weft::data {
namespace {

static_assert(std::endian::native == std::endian::little,
              "shard files are little-endian; a big-endian host needs byte swapping");

constexpr const char* kRegenerateHint =
    "regenerate the shard with `weft data prepare` (or llm.c's data scripts)";

// Owns one read-only file descriptor.
class ReadFile {
 public:
  explicit ReadFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw io_error_errno("cannot open shard", path);
  }
  ~ReadFile() { ::close(fd_); }
  ReadFile(const ReadFile&) = delete;
  ReadFile& operator=(const ReadFile&) = delete;

  std::uint64_t size() const {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) throw io_error_errno("cannot stat shard", path_);
    return static_cast<std::uint64_t>(st.st_size);
  }
  // Reads exactly `size` bytes at `offset` or throws.
  void read_at(void* out, std::size_t size, std::uint64_t offset) const {
    char* p = static_cast<char*>(out);
    while (size > 0) {
      const ssize_t n = ::pread(fd_, p, size, static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        throw io_error_errno("cannot read shard", path_);
      }
      if (n == 0)
        throw input_error(str("shard '", path_, "': unexpected end of file"), kRegenerateHint);
      p += n;
      size -= static_cast<std::size_t>(n);
      offset += static_cast<std::uint64_t>(n);
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
};

std::uint64_t open_and_validate(const ReadFile& file, const std::string& path) {
  const std::uint64_t size = file.size();
  if (size < kShardHeaderBytes) {
    throw input_error(str("shard '", path, "': file is ", size, " bytes, shorter than the ",
                          kShardHeaderBytes, "-byte header"),
                      kRegenerateHint);
  }
  std::uint8_t header[kShardHeaderBytes];
  file.read_at(header, sizeof header, 0);
  return shard_header_decode(header, size, path);
}

}  // namespace

std::vector<std::uint8_t> shard_header_encode(std::uint64_t num_tokens) {
  WEFT_CHECK(num_tokens <= static_cast<std::uint64_t>(INT32_MAX), "shard too large: ", num_tokens);
  std::int32_t ints[kShardHeaderInts] = {};
  ints[0] = kShardMagic;
  ints[1] = kShardVersion;
  ints[2] = static_cast<std::int32_t>(num_tokens);
  std::vector<std::uint8_t> out(kShardHeaderBytes);
  std::memcpy(out.data(), ints, kShardHeaderBytes);
  return out;
}

std::uint64_t shard_header_decode(const std::uint8_t* header, std::uint64_t file_size,
                                  const std::string& name) {
  std::int32_t ints[3];
  std::memcpy(ints, header, sizeof ints);
  if (ints[0] != kShardMagic) {
    throw input_error(str("shard '", name, "': wrong magic ", ints[0], " (expected ", kShardMagic,
                          "): not an llm.c token shard"),
                      kRegenerateHint);
  }
  if (ints[1] != kShardVersion) {
    throw input_error(
        str("shard '", name, "': unsupported version ", ints[1], " (expected ", kShardVersion, ")"),
        kRegenerateHint);
  }
  if (ints[2] < 0) {
    throw input_error(str("shard '", name, "': negative token count ", ints[2]), kRegenerateHint);
  }
  const auto num_tokens = static_cast<std::uint64_t>(ints[2]);
  const std::uint64_t expect = kShardHeaderBytes + num_tokens * sizeof(std::uint16_t);
  if (file_size != 0 && file_size != expect) {
    throw input_error(str("shard '", name, "': header says ", num_tokens, " tokens (", expect,
                          " bytes) but the file is ", file_size, " bytes",
                          file_size < expect ? " (truncated)" : " (trailing data)"),
                      kRegenerateHint);
  }
  return num_tokens;
}

std::uint64_t shard_read_header(const std::string& path) {
  ReadFile file(path);
  return open_and_validate(file, path);
}

void shard_check_ids(std::span<const std::uint16_t> tokens, std::int64_t vocab_size,
                     const std::string& name, std::uint64_t first_index) {
  if (vocab_size <= 0 || vocab_size > 65535) return;  // every uint16 id is then valid
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] >= vocab_size) {
      throw input_error(str("shard '", name, "': token ", first_index + i, " has id ", tokens[i],
                            ", not below the vocabulary size ", vocab_size),
                        "the shard was made with another tokenizer; re-run `weft data prepare` "
                        "with the model's tokenizer");
    }
  }
}

std::vector<std::uint16_t> shard_read(const std::string& path, std::int64_t vocab_size) {
  ReadFile file(path);
  const std::uint64_t n = open_and_validate(file, path);
  std::vector<std::uint16_t> tokens(n);
  if (n > 0) file.read_at(tokens.data(), n * sizeof(std::uint16_t), kShardHeaderBytes);
  shard_check_ids(tokens, vocab_size, path);
  return tokens;
}

void shard_read_range(const std::string& path, std::uint64_t offset, std::uint64_t count,
                      std::uint16_t* out, std::int64_t vocab_size) {
  ReadFile file(path);
  const std::uint64_t n = open_and_validate(file, path);
  if (offset > n || count > n - offset) {
    throw input_error(str("shard '", path, "': tokens [", offset, ", ", offset + count,
                          ") requested but it holds only ", n));
  }
  if (count > 0) {
    file.read_at(out, count * sizeof(std::uint16_t),
                 kShardHeaderBytes + offset * sizeof(std::uint16_t));
  }
  shard_check_ids({out, count}, vocab_size, path, offset);
}

void shard_write(const std::string& path, std::span<const std::uint16_t> tokens, bool durable) {
  if (tokens.size() > static_cast<std::size_t>(INT32_MAX)) {
    throw input_error(
        str("shard '", path, "': ", tokens.size(), " tokens do not fit the format's int32 count"),
        "use a smaller --shard-tokens");
  }
  const auto header = shard_header_encode(tokens.size());
  AtomicFileWriter w(path, durable);
  w.write(header.data(), header.size());
  w.write(tokens.data(), tokens.size_bytes());
  w.commit();
}

}  // namespace weft::data
