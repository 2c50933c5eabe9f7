// Finding, verifying and assembling weft checkpoints. See checkpoint.hpp.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "train/checkpoint.hpp"

namespace weft::train {
namespace fs = std::filesystem;
namespace {

const char* kHint = "resume from an older checkpoint: --resume RUN_DIR/ckpt/step_N";

std::string file_sha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error_errno("cannot open", path);
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.update(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  return h.finish_hex();
}

}  // namespace

std::string ckpt_json_checksum(nlohmann::json meta) {
  meta.erase("json_sha256");
  return sha256_hex(meta.dump());
}

std::string ckpt_rank_file_name(int rank) {
  std::ostringstream s;
  s << "rank_" << std::setw(5) << std::setfill('0') << rank << ".bin";
  return s.str();
}

std::string ckpt_resolve(const std::string& path) {
  const fs::path p(path);
  if (fs::exists(p / "checkpoint.json")) return p.string();
  for (const fs::path& root : {p, p / "ckpt"}) {
    if (!fs::exists(root / "latest")) continue;
    std::ifstream in(root / "latest");
    std::string name;
    std::getline(in, name);
    if (name.empty() || name.find('/') != std::string::npos)
      throw input_error(str((root / "latest").string(), ": does not name a step directory"));
    return (root / name).string();
  }
  throw input_error(
      str("no checkpoint at '", path, "': expected a step directory with checkpoint.json, ",
          "or a run directory with ckpt/latest"),
      "train with --save-every N (or stop with Ctrl-C) to write checkpoints");
}

Checkpoint ckpt_open(const std::string& step_dir) {
  Checkpoint ck;
  ck.dir = step_dir;
  const std::string json_path = (fs::path(step_dir) / "checkpoint.json").string();
  auto bad = [&](const std::string& file, const std::string& why) {
    return input_error(str("checkpoint ", step_dir, ": ", file, ": ", why), kHint);
  };
  std::ifstream in(json_path);
  if (!in) throw bad("checkpoint.json", "missing or unreadable");
  try {
    ck.meta = nlohmann::json::parse(in);
    if (ck.meta.at("format").get<std::string>() != "weft-checkpoint")
      throw bad("checkpoint.json", "\"format\" is not \"weft-checkpoint\"");
    if (ck.meta.at("version").get<int>() != kCkptVersion)
      throw bad("checkpoint.json", str("version ", ck.meta.at("version").dump(),
                                       " (this weft reads version ", kCkptVersion, ")"));
    if (ck.meta.at("json_sha256").get<std::string>() != ckpt_json_checksum(ck.meta))
      throw bad("checkpoint.json",
                "its json_sha256 does not match its content: edited by hand or damaged");
    for (const auto& f : ck.meta.at("files")) {
      const std::string name = f.at("path").get<std::string>();
      if (name.find('/') != std::string::npos)
        throw bad("checkpoint.json", str("file path '", name, "'"));
      const fs::path p = fs::path(step_dir) / name;
      if (!fs::exists(p)) throw bad(name, "missing (checkpoint.json lists it)");
      const auto want = f.at("bytes").get<std::uint64_t>();
      const auto have = fs::file_size(p);
      if (have != want)
        throw bad(name, str("is ", have, " bytes, checkpoint.json says ", want,
                            ": truncated or replaced"));
      if (file_sha256(p.string()) != f.at("sha256").get<std::string>())
        throw bad(name, "SHA-256 does not match checkpoint.json: the file is damaged");
      ck.files.push_back(ckpt_read_rank_index(p.string()));
      if (ck.files.back().rank != f.at("rank").get<int>())
        throw bad(name, str("holds rank ", ck.files.back().rank, ", checkpoint.json says ",
                            f.at("rank").dump()));
    }
  } catch (const nlohmann::json::exception& e) {
    throw bad("checkpoint.json", str("malformed: ", e.what()));
  }
  if (ck.files.empty()) throw bad("checkpoint.json", "lists no rank files");
  return ck;
}

model::GptConfig ckpt_model_config(const Checkpoint& ck) {
  model::GptConfig c;
  try {
    const auto& j = ck.meta.at("model");
    c.n_layer = j.at("n_layer");
    c.n_head = j.at("n_head");
    c.n_embd = j.at("n_embd");
    c.vocab = j.at("vocab");
    c.padded_vocab = j.at("padded_vocab");
    c.max_seq = j.at("max_seq");
  } catch (const nlohmann::json::exception& e) {
    throw input_error(str("checkpoint ", ck.dir, ": checkpoint.json: \"model\": ", e.what()));
  }
  c.validate(str(ck.dir, "/checkpoint.json"));
  return c;
}

CkptFullState ckpt_assemble(const Checkpoint& ck, const model::ParamLayout& layout,
                            bool optimizer) {
  CkptFullState s;
  s.params.allocate(layout.total());
  if (optimizer) {
    s.m.allocate(layout.total());
    s.v.allocate(layout.total());
    s.adam_steps = ck.meta.value("adam_steps", std::int64_t{0});
  }
  std::vector<std::pair<std::string, float*>> groups = {{"params/", s.params.data()}};
  if (optimizer) {
    groups.emplace_back("adam_m/", s.m.data());
    groups.emplace_back("adam_v/", s.v.data());
  }
  for (const auto& [prefix, base] : groups)
    for (const model::ParamTensor& t : layout.tensors()) {
      const std::string name = prefix + t.name;
      std::vector<CkptRange> seen;
      for (const CkptRankFile& f : ck.files)
        for (const CkptTensor& ct : f.tensors) {
          if (ct.name != name) continue;
          if (std::vector<long>(ct.shape.begin(), ct.shape.end()) != t.shape)
            throw input_error(str("checkpoint ", ck.dir, ": ", fs::path(f.path).filename().string(),
                                  ": tensor ", name, " has another shape than the model's ",
                                  model::ParamLayout::shape_string(t)));
          ckpt_read_tensor(f, ct, base + t.offset);
          seen.insert(seen.end(), ct.ranges.begin(), ct.ranges.end());
        }
      std::sort(seen.begin(), seen.end(),
                [](const CkptRange& a, const CkptRange& b) { return a.start < b.start; });
      std::uint64_t at = 0;
      bool tiled = true;
      for (const CkptRange& r : seen) {
        if (r.start != at) {
          tiled = false;
          break;
        }
        at += r.count;
      }
      if (!tiled || at != t.size)
        throw input_error(
            str("checkpoint ", ck.dir, ": tensor ", name, " is not covered exactly once by ",
                "the rank files (first gap or overlap at element ", at, " of ", t.size, ")"),
            kHint);
    }
  return s;
}

}  // namespace weft::train
