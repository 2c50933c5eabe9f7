// Atomic file replacement: write a temp file beside the target, fsync it, rename it
// over the target, fsync the directory. A reader (or a crash) sees either the old
// file or the complete new one, never a partial one. Used for shards, manifests and
// checkpoints. Plain functions; any thread.
#pragma once

#include <cstddef>
#include <string>

namespace weft {

// Writes `size` bytes to `path` atomically. The temp file is "<path>.tmp.<pid>.<n>"
// and is removed on failure. Throws weft::Error (kIo) naming the path.
void file_write_atomic(const std::string& path, const void* data, std::size_t size,
                       bool durable = true);

// Same, for content produced in pieces: `write` is called with a writer that
// appends bytes to the temp file. Lets large files stream without one big buffer.
class AtomicFileWriter {
 public:
  // durable = false skips the fsyncs (still atomic against a crash of this process,
  // not against power loss): for scratch files that are cheap to remake.
  explicit AtomicFileWriter(std::string path, bool durable = true);
  ~AtomicFileWriter();  // removes the temp file unless commit() succeeded
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const void* data, std::size_t size);
  // fsync + rename over the target + fsync of the directory.
  void commit();
  const std::string& temp_path() const { return temp_path_; }

 private:
  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  bool committed_ = false;
  bool durable_ = true;
};

}  // namespace weft
