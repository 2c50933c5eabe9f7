// Rank files of weft checkpoints. See ckpt_file.hpp.
#include "train/ckpt_file.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/sha256.hpp"

namespace weft::train {
namespace {

constexpr std::uint64_t kAlign = 64;  // the data block starts on a 64-byte boundary

std::uint64_t round_up(std::uint64_t n) {
  return (n + kAlign - 1) / kAlign * kAlign;
}

// Streams bytes into the atomic writer and the hash; fails like a full disk after
// `limit` bytes when limit >= 0.
struct HashedWriter {
  AtomicFileWriter& out;
  Sha256 hash;
  std::uint64_t written = 0;
  std::int64_t limit = -1;
  void put(const void* p, std::size_t n) {
    if (limit >= 0 && written + n > static_cast<std::uint64_t>(limit)) {
      errno = ENOSPC;
      throw io_error_errno("cannot write (test hook: disk full)", out.temp_path());
    }
    out.write(p, n);
    hash.update(p, n);
    written += n;
  }
};

}  // namespace

std::uint64_t CkptTensor::elements() const {
  std::uint64_t n = 1;
  for (std::int64_t d : shape) n *= static_cast<std::uint64_t>(d);
  return n;
}

std::uint64_t CkptTensor::held() const {
  std::uint64_t n = 0;
  for (const CkptRange& r : ranges) n += r.count;
  return n;
}

CkptFileInfo ckpt_write_rank_file(const std::string& path, int rank,
                                  const std::vector<CkptTensor>& tensors,
                                  std::int64_t fail_after_bytes) {
  nlohmann::json index = {{"rank", rank}, {"dtype", "f32"}, {"tensors", nlohmann::json::array()}};
  std::uint64_t offset = 0;
  for (const CkptTensor& t : tensors) {
    WEFT_CHECK(t.sources.size() == t.ranges.size(), "one source per range");
    nlohmann::json ranges = nlohmann::json::array();
    for (const CkptRange& r : t.ranges) ranges.push_back({r.start, r.count});
    index["tensors"].push_back(
        {{"name", t.name}, {"shape", t.shape}, {"ranges", ranges}, {"offset", offset}});
    offset += t.held() * sizeof(float);
  }
  const std::string text = index.dump();
  AtomicFileWriter out(path);
  HashedWriter w{out, Sha256(), 0, fail_after_bytes};
  w.put(kCkptFileMagic, 8);
  const std::uint32_t head[2] = {kCkptFileVersion, 0};
  w.put(head, sizeof(head));
  const std::uint64_t len = text.size();
  w.put(&len, sizeof(len));
  w.put(text.data(), text.size());
  const std::vector<char> pad(round_up(w.written) - w.written, 0);
  w.put(pad.data(), pad.size());
  for (const CkptTensor& t : tensors)
    for (std::size_t i = 0; i < t.ranges.size(); ++i)
      w.put(t.sources[i], t.ranges[i].count * sizeof(float));
  out.commit();
  return {w.written, w.hash.finish_hex()};
}

CkptRankFile ckpt_read_rank_index(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error_errno("cannot open checkpoint rank file", path);
  auto bad = [&](const std::string& why) {
    return input_error(str("checkpoint rank file ", path, ": ", why),
                       "the file is damaged; resume from an older checkpoint (ckpt/step_N)");
  };
  char magic[8];
  std::uint32_t head[2];
  std::uint64_t len = 0;
  in.read(magic, 8);
  in.read(reinterpret_cast<char*>(head), sizeof(head));
  in.read(reinterpret_cast<char*>(&len), sizeof(len));
  if (!in) throw bad("shorter than its 24-byte header");
  if (std::memcmp(magic, kCkptFileMagic, 8) != 0)
    throw bad("bad magic (not a weft checkpoint file)");
  if (head[0] != kCkptFileVersion)
    throw bad(str("version ", head[0], " (this weft reads version ", kCkptFileVersion, ")"));
  const std::uint64_t file_size = std::filesystem::file_size(path);
  if (len > file_size) throw bad(str("index length ", len, " exceeds the file size ", file_size));
  std::string text(len, '\0');
  in.read(text.data(), static_cast<std::streamsize>(len));
  if (!in) throw bad("truncated inside its index");
  CkptRankFile f;
  f.path = path;
  f.data_start = round_up(24 + len);
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    f.rank = j.at("rank").get<int>();
    if (j.at("dtype").get<std::string>() != "f32") throw bad("dtype is not f32");
    for (const auto& jt : j.at("tensors")) {
      CkptTensor t;
      t.name = jt.at("name").get<std::string>();
      t.shape = jt.at("shape").get<std::vector<std::int64_t>>();
      t.data_offset = jt.at("offset").get<std::uint64_t>();
      for (const auto& jr : jt.at("ranges")) t.ranges.push_back({jr.at(0), jr.at(1)});
      std::uint64_t prev_end = 0;
      for (const CkptRange& r : t.ranges) {
        if (r.start < prev_end || r.start + r.count > t.elements())
          throw bad(str("tensor ", t.name, ": range [", r.start, ", ", r.start + r.count,
                        ") overlaps or lies outside its shape"));
        prev_end = r.start + r.count;
      }
      if (f.data_start + t.data_offset + t.held() * sizeof(float) > file_size)
        throw bad(str("tensor ", t.name, ": data runs past the end of the file (", file_size,
                      " bytes): truncated"));
      f.tensors.push_back(std::move(t));
    }
  } catch (const nlohmann::json::exception& e) {
    throw bad(str("malformed index: ", e.what()));
  }
  return f;
}

void ckpt_read_tensor(const CkptRankFile& f, const CkptTensor& t, float* global) {
  std::ifstream in(f.path, std::ios::binary);
  if (!in) throw io_error_errno("cannot open checkpoint rank file", f.path);
  in.seekg(static_cast<std::streamoff>(f.data_start + t.data_offset));
  for (const CkptRange& r : t.ranges) {
    in.read(reinterpret_cast<char*>(global + r.start),
            static_cast<std::streamsize>(r.count * sizeof(float)));
    if (!in)
      throw input_error(str("checkpoint rank file ", f.path, ": truncated in tensor ", t.name));
  }
}

}  // namespace weft::train
