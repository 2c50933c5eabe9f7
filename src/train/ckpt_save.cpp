// Collective checkpoint save: temp directory, rank files, checkpoint.json, rename,
// `latest`, pruning. See checkpoint.hpp.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <span>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/sha256.hpp"
#include "parallel/comm/communicator.hpp"
#include "train/checkpoint.hpp"

namespace weft::train {
namespace fs = std::filesystem;
namespace {

void fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw io_error_errno("cannot open directory", dir.string());
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw io_error_errno("cannot fsync directory", dir.string());
}

// Every rank learns whether all succeeded (min over ranks of ok).
bool all_ok(comm::Communicator* c, bool ok, const std::string& what) {
  if (c == nullptr) return ok;
  std::int64_t v = ok ? 1 : 0;
  c->all_reduce(std::span<std::int64_t>(&v, 1), comm::ReduceOp::kMin, what);
  return v == 1;
}

// Step directories step_<N> under root, newest first.
std::vector<std::pair<std::int64_t, fs::path>> step_dirs(const fs::path& root) {
  std::vector<std::pair<std::int64_t, fs::path>> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    const std::string n = e.path().filename().string();
    if (!e.is_directory() || n.rfind("step_", 0) != 0 || n.size() == 5) continue;
    if (!std::all_of(n.begin() + 5, n.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
      continue;
    out.emplace_back(std::stoll(n.substr(5)), e.path());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  return out;
}

std::string previous_note(const fs::path& root) {
  std::error_code ec;
  if (!fs::exists(root / "latest", ec)) return "there is no previous checkpoint";
  std::ifstream in(root / "latest");
  std::string name;
  std::getline(in, name);
  return str("the previous checkpoint ", (root / name).string(), " is intact");
}

// Rank 0's part after every rank file is written: checkpoint.json, rename, latest, prune.
void finish_on_rank0(const CkptSaveOptions& o, const fs::path& root, const fs::path& tmp,
                     const fs::path& final_dir, nlohmann::json& meta) {
  meta["json_sha256"] = ckpt_json_checksum(meta);
  const std::string text = meta.dump(1) + "\n";
  file_write_atomic((tmp / "checkpoint.json").string(), text.data(), text.size());
  fsync_dir(tmp);
  std::error_code ec;
  const fs::path old = root / str(".old_", final_dir.filename().string());
  if (fs::exists(final_dir, ec)) {  // a resumed run saving the same step again
    fs::remove_all(old, ec);
    fs::rename(final_dir, old, ec);
    if (ec) throw io_error(str("cannot move aside ", final_dir.string(), ": ", ec.message()));
  }
  fs::rename(tmp, final_dir, ec);
  if (ec)
    throw io_error(
        str("cannot rename ", tmp.string(), " to ", final_dir.string(), ": ", ec.message()));
  fsync_dir(root);
  fs::remove_all(old, ec);
  const std::string latest = final_dir.filename().string() + "\n";
  file_write_atomic((root / "latest").string(), latest.data(), latest.size());
  const auto dirs = step_dirs(root);
  for (std::size_t i = static_cast<std::size_t>(std::max(o.keep, 1)); i < dirs.size(); ++i) {
    if (dirs[i].second == final_dir) continue;
    fs::remove_all(dirs[i].second, ec);
    if (ec) log_warn("checkpoint: cannot remove old ", dirs[i].second.string(), ": ", ec.message());
  }
}

}  // namespace

std::string ckpt_save(const CkptSaveOptions& o, std::int64_t step, nlohmann::json meta,
                      const std::vector<CkptTensor>& mine, comm::Communicator* c) {
  const int rank = c ? c->rank() : 0, world = c ? c->size() : 1;
  const fs::path root = fs::path(o.run_dir) / "ckpt";
  const std::string name = str("step_", step);
  const fs::path tmp = root / str(".tmp_", name), final_dir = root / name;
  auto fail = [&](const std::string& why) {
    return io_error(
        str("checkpoint ", final_dir.string(), " was NOT saved: ", why, "; ", previous_note(root)),
        "free disk space (or fix the error) and resume with --resume");
  };

  // 1. Rank 0 makes a fresh temporary directory (a stale one is a crashed save).
  std::string err;
  if (rank == 0) {
    try {
      std::error_code ec;
      fs::create_directories(root, ec);
      if (ec) throw io_error(str("cannot create ", root.string(), ": ", ec.message()));
      fs::remove_all(tmp, ec);
      fs::create_directory(tmp, ec);
      if (ec) throw io_error(str("cannot create ", tmp.string(), ": ", ec.message()));
    } catch (const Error& e) {
      err = e.what();
    }
  }
  if (!all_ok(c, err.empty(), str("checkpoint ", name, ": directory")))
    throw fail(err.empty() ? "rank 0 could not create the directory" : err);

  // 2. Every rank writes its own file; all learn every size and checksum.
  CkptFileInfo info;
  try {
    info = ckpt_write_rank_file((tmp / ckpt_rank_file_name(rank)).string(), rank, mine,
                                o.fail_after_bytes);
  } catch (const Error& e) {
    err = e.what();
  }
  std::vector<std::int64_t> sizes(static_cast<std::size_t>(world));
  std::vector<std::uint8_t> hashes(64 * static_cast<std::size_t>(world));
  const std::int64_t my_size = err.empty() ? static_cast<std::int64_t>(info.bytes) : -1;
  std::vector<std::uint8_t> my_hash(64, '0');
  std::copy(info.sha256.begin(), info.sha256.end(), my_hash.begin());
  if (c != nullptr) {
    c->all_gather(std::span<const std::int64_t>(&my_size, 1), std::span<std::int64_t>(sizes),
                  str("checkpoint ", name, ": sizes"));
    c->all_gather(std::span<const std::uint8_t>(my_hash), std::span<std::uint8_t>(hashes),
                  str("checkpoint ", name, ": checksums"));
  } else {
    sizes[0] = my_size;
    hashes = my_hash;
  }
  for (int r = 0; r < world; ++r)
    if (sizes[static_cast<std::size_t>(r)] < 0) {
      if (rank == 0) {
        std::error_code ec;
        fs::remove_all(tmp, ec);
      }
      throw fail(r == rank ? err : str("rank ", r, " could not write its file"));
    }

  // 3. Rank 0 publishes the checkpoint.
  if (rank == 0) {
    nlohmann::json files = nlohmann::json::array();
    for (int r = 0; r < world; ++r) {
      const auto* h = hashes.data() + 64 * static_cast<std::size_t>(r);
      files.push_back({{"rank", r},
                       {"path", ckpt_rank_file_name(r)},
                       {"bytes", sizes[static_cast<std::size_t>(r)]},
                       {"sha256", std::string(h, h + 64)}});
    }
    meta["files"] = files;
    try {
      finish_on_rank0(o, root, tmp, final_dir, meta);
    } catch (const Error& e) {
      err = e.what();
      std::error_code ec;
      fs::remove_all(tmp, ec);
    }
  }
  if (!all_ok(c, err.empty(), str("checkpoint ", name, ": publish")))
    throw fail(err.empty() ? "rank 0 could not publish it" : err);
  return final_dir.string();
}

}  // namespace weft::train
