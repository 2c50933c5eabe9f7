// Local (pread) and remote (HTTP range + block cache) shard readers. See shard_reader.hpp.
#include "data/shard_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "data/checksum.hpp"
#include "data/http_fetch.hpp"
#include "data/shard_file.hpp"

namespace weft::data {
namespace {

namespace fs = std::filesystem;

void check_expected_tokens(std::uint64_t n, const ShardOpenOptions& o, const std::string& name) {
  if (o.expect_tokens >= 0 && n != static_cast<std::uint64_t>(o.expect_tokens)) {
    throw input_error(
        str("shard '", name, "' holds ", n, " tokens but the manifest lists ", o.expect_tokens),
        "the shard was replaced after the manifest was written; re-run `weft data prepare`");
  }
}

class LocalShardReader : public ShardReader {
 public:
  LocalShardReader(std::string path, const ShardOpenOptions& o) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      throw input_error(
          str("cannot open shard '", path_, "': ", std::strerror(errno)),
          errno == ENOENT ? "the manifest lists a shard that is missing; re-run `weft data prepare`"
                          : "");
    }
    struct stat st {};
    if (::fstat(fd_, &st) != 0) throw io_error_errno("cannot stat shard", path_);
    std::uint8_t header[kShardHeaderBytes] = {};
    if (static_cast<std::uint64_t>(st.st_size) >= kShardHeaderBytes)
      pread_all(header, sizeof header, 0);
    if (static_cast<std::uint64_t>(st.st_size) < kShardHeaderBytes) {
      throw input_error(
          str("shard '", path_, "': file is ", st.st_size, " bytes, shorter than the header"));
    }
    n_ = shard_header_decode(header, static_cast<std::uint64_t>(st.st_size), path_);
    check_expected_tokens(n_, o, path_);
    if (!o.expect_sha256.empty() && sha256_file(path_) != o.expect_sha256) {
      throw input_error(
          str("shard '", path_, "' changed since the manifest was written (SHA-256 differs)"),
          "re-run `weft data prepare` to make it again");
    }
  }
  ~LocalShardReader() override { ::close(fd_); }

  std::uint64_t num_tokens() const override { return n_; }
  const std::string& name() const override { return path_; }
  void read(std::uint64_t offset, std::uint64_t count, std::uint16_t* out) override {
    WEFT_CHECK(offset <= n_ && count <= n_ - offset, "read past the end of ", path_);
    pread_all(out, count * 2, kShardHeaderBytes + offset * 2);
  }

 private:
  void pread_all(void* out, std::size_t size, std::uint64_t at) {
    char* p = static_cast<char*>(out);
    while (size > 0) {
      const ssize_t got = ::pread(fd_, p, size, static_cast<off_t>(at));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw io_error_errno("cannot read shard", path_);
      if (got == 0)
        throw input_error(str("shard '", path_, "': unexpected end of file (truncated?)"));
      p += got;
      size -= static_cast<std::size_t>(got);
      at += static_cast<std::uint64_t>(got);
    }
  }

  std::string path_;
  int fd_ = -1;
  std::uint64_t n_ = 0;
};

// Remote shard read in fixed blocks; each block fetched once with a Range request
// and kept as a file under cache_dir/<hash of URL>/.
class HttpShardReader : public ShardReader {
 public:
  static constexpr std::uint64_t kBlock = 1 << 20;

  HttpShardReader(std::string url, const ShardOpenOptions& o) : url_(std::move(url)) {
    const std::string cache = o.cache_dir.empty() ? shard_default_cache_dir() : o.cache_dir;
    dir_ = (fs::path(cache) / sha256_hex(url_).substr(0, 32)).string();
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) throw io_error(str("cannot create shard cache directory '", dir_, "': ", ec.message()));
    // The total size comes with the first range response; cached beside the blocks.
    const std::string size_file = dir_ + "/size";
    std::ifstream in(size_file);
    if (!(in >> total_)) {
      const HttpRange r = http_get_range(url_, 0, kBlock - 1);
      total_ = r.total_size;
      const std::string s = std::to_string(total_);
      store_block(0, r.body);
      file_write_atomic(size_file, s.data(), s.size(), /*durable=*/false);
    }
    if (total_ < kShardHeaderBytes) {
      throw input_error(str("shard '", url_, "': ", total_, " bytes, shorter than the ",
                            kShardHeaderBytes, "-byte header"));
    }
    std::uint8_t header[kShardHeaderBytes];
    read_block(0, 0, kShardHeaderBytes, reinterpret_cast<char*>(header));
    n_ = shard_header_decode(header, total_, url_);
    check_expected_tokens(n_, o, url_);
  }

  std::uint64_t num_tokens() const override { return n_; }
  const std::string& name() const override { return url_; }
  void read(std::uint64_t offset, std::uint64_t count, std::uint16_t* out) override {
    WEFT_CHECK(offset <= n_ && count <= n_ - offset, "read past the end of ", url_);
    std::uint64_t at = kShardHeaderBytes + offset * 2;
    const std::uint64_t end = at + count * 2;
    char* dst = reinterpret_cast<char*>(out);
    while (at < end) {
      const std::uint64_t b = at / kBlock;
      const std::uint64_t from = at - b * kBlock;
      const std::uint64_t take = std::min<std::uint64_t>(end - at, block_size(b) - from);
      read_block(b, from, take, dst);
      dst += take;
      at += take;
    }
  }

 private:
  std::uint64_t block_size(std::uint64_t b) const { return std::min(kBlock, total_ - b * kBlock); }
  std::string block_path(std::uint64_t b) const { return dir_ + "/b" + std::to_string(b); }

  void store_block(std::uint64_t b, const std::string& bytes) {
    file_write_atomic(block_path(b), bytes.data(), bytes.size(), /*durable=*/false);
  }

  // Makes sure block b is in the disk cache (fetching it with one Range request).
  void ensure_block(std::uint64_t b) {
    if (present_.size() <= b) present_.resize(b + 1, false);
    if (present_[b]) return;
    struct stat st {};
    if (::stat(block_path(b).c_str(), &st) != 0 ||
        static_cast<std::uint64_t>(st.st_size) != block_size(b)) {
      HttpRange r = http_get_range(url_, b * kBlock, b * kBlock + block_size(b) - 1);
      if (r.total_size != total_ || r.body.size() != block_size(b)) {
        throw input_error(str("shard '", url_, "' changed on the server (size ", r.total_size,
                              ", was ", total_, ")"),
                          str("clear the cache directory '", dir_, "'"));
      }
      store_block(b, r.body);
    }
    present_[b] = true;
  }

  // out[size] = bytes [from, from + size) of block b.
  void read_block(std::uint64_t b, std::uint64_t from, std::uint64_t size, char* out) {
    ensure_block(b);
    const std::string path = block_path(b);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw io_error_errno("cannot open cached block", path);
    std::uint64_t done = 0;
    while (done < size) {
      const ssize_t got = ::pread(fd, out + done, size - done, static_cast<off_t>(from + done));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        ::close(fd);
        throw io_error(str("cannot read cached block '", path, "' (removed while in use?)"));
      }
      done += static_cast<std::uint64_t>(got);
    }
    ::close(fd);
  }

  std::string url_;
  std::string dir_;
  std::uint64_t total_ = 0;
  std::uint64_t n_ = 0;
  std::vector<bool> present_;  // blocks known to be in the disk cache
};

}  // namespace

bool is_url(const std::string& path) {
  return path.rfind("http://", 0) == 0 || path.rfind("https://", 0) == 0;
}

std::unique_ptr<ShardReader> shard_open(const std::string& path, const ShardOpenOptions& options) {
  if (is_url(path)) return std::make_unique<HttpShardReader>(path, options);
  return std::make_unique<LocalShardReader>(path, options);
}

std::string shard_default_cache_dir() {
  if (const char* d = std::getenv("WEFT_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return str(x, "/weft/shards");
  if (const char* h = std::getenv("HOME"); h && *h) return str(h, "/.cache/weft/shards");
  return "/tmp/weft-cache/shards";
}

}  // namespace weft::data
