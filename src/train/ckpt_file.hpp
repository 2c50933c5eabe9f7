// One rank file of a weft checkpoint (docs/formats.md "weft checkpoints"): a small
// header, a JSON index naming every tensor piece the file holds by its GLOBAL name,
// GLOBAL shape and the element ranges of the row-major global tensor it covers, then
// the float32 data. Any parallel layout writes and reads the same kind of file, so a
// loader re-slices for its own layout. Plain functions; any thread; returned objects
// own their data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace weft::train {

inline constexpr char kCkptFileMagic[8] = {'W', 'E', 'F', 'T', 'C', 'K', 'P', 'T'};
inline constexpr std::uint32_t kCkptFileVersion = 1;

// Elements [start, start + count) of the row-major global tensor.
struct CkptRange {
  std::uint64_t start = 0;
  std::uint64_t count = 0;
};

struct CkptTensor {
  std::string name;                   // global name, e.g. "params/qkvw", "adam_m/wte"
  std::vector<std::int64_t> shape;    // global shape, e.g. {L, 3C, C}
  std::vector<CkptRange> ranges;      // pieces held by this file, ascending, disjoint
  std::vector<const float*> sources;  // writer only: data of each range
  std::uint64_t data_offset = 0;      // reader: bytes from the start of the data block
  std::uint64_t elements() const;     // global element count (product of shape)
  std::uint64_t held() const;         // Σ range counts
};

struct CkptFileInfo {
  std::uint64_t bytes = 0;
  std::string sha256;  // lower-case hex of the whole file
};

// Writes the rank file `path` (fsynced). fail_after_bytes >= 0 is a test hook: the
// write fails with ENOSPC once that many bytes are written (a full disk).
// Throws weft::Error (kIo) naming the file; a partial file is removed.
CkptFileInfo ckpt_write_rank_file(const std::string& path, int rank,
                                  const std::vector<CkptTensor>& tensors,
                                  std::int64_t fail_after_bytes = -1);

struct CkptRankFile {
  std::string path;
  int rank = 0;
  std::uint64_t data_start = 0;  // file offset of the data block
  std::vector<CkptTensor> tensors;
};

// Reads and validates the header and index (magic, version, ranges within shapes,
// data inside the file). Throws weft::Error (kInput) naming the file and the field.
CkptRankFile ckpt_read_rank_index(const std::string& path);
// Copies the pieces of `t` (from f.tensors) into `global` (t.elements() floats).
void ckpt_read_tensor(const CkptRankFile& f, const CkptTensor& t, float* global);

}  // namespace weft::train
