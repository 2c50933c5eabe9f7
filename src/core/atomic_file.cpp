// Temp file + fsync + rename + directory fsync. See atomic_file.hpp.
#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>

#include "core/error.hpp"

namespace weft {
namespace {

std::atomic<unsigned> g_temp_counter{0};

void fsync_parent_dir(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) parent = ".";
  const int dfd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return;  // not fatal: the rename itself already happened
  ::fsync(dfd);
  ::close(dfd);
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::string path, bool durable)
    : path_(std::move(path)), durable_(durable) {
  temp_path_ = str(path_, ".tmp.", ::getpid(), ".", g_temp_counter.fetch_add(1));
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw io_error_errno("cannot create temporary file", temp_path_);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_path_.c_str());
}

void AtomicFileWriter::write(const void* data, std::size_t size) {
  WEFT_CHECK(fd_ >= 0, "write after commit");
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd_, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw io_error_errno("cannot write", temp_path_);
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

void AtomicFileWriter::commit() {
  WEFT_CHECK(fd_ >= 0, "commit twice");
  if (durable_ && ::fsync(fd_) != 0) throw io_error_errno("cannot fsync", temp_path_);
  const int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) throw io_error_errno("cannot close", temp_path_);
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    throw io_error_errno("cannot rename temporary file onto", path_);
  }
  committed_ = true;
  if (durable_) fsync_parent_dir(path_);
}

void file_write_atomic(const std::string& path, const void* data, std::size_t size, bool durable) {
  AtomicFileWriter w(path, durable);
  w.write(data, size);
  w.commit();
}

}  // namespace weft
