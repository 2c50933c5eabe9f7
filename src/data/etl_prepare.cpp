// `weft data prepare` orchestration: plan, resume from manifest.json, fork workers,
// assemble exact-size shards in plan order, write each atomically and record it.
// See etl_prepare.hpp; formats in docs/formats.md ("Data manifest").
#include "data/etl_prepare.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <optional>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "core/timer.hpp"
#include "data/checksum.hpp"
#include "data/etl_tokenize.hpp"
#include "data/etl_workers.hpp"
#include "data/shard_file.hpp"

namespace weft::data {
namespace {

namespace fs = std::filesystem;

// Exclusive lock on DIR/.prepare.lock so two runs never write one directory.
class DirLock {
 public:
  explicit DirLock(const std::string& dir) {
    const std::string path = (fs::path(dir) / ".prepare.lock").string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw io_error_errno("cannot create lock file", path);
    // A POSIX record lock: unlike flock() it is not inherited by the forked workers,
    // so it is released the moment this process dies, even while workers wind down.
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(fd_, F_SETLK, &fl) != 0) {
      ::close(fd_);
      throw input_error(
          str("output directory '", dir, "' is being written by another `weft data prepare`"),
          "wait for it to finish or choose another --out");
    }
  }
  ~DirLock() { ::close(fd_); }  // closing releases the lock
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

std::string plan_hash(const Plan& plan, const TokenEncoder& enc, std::uint64_t shard_tokens) {
  Sha256 h;
  h.update(str("weft-plan-v1|", enc.content_hash(), "|", shard_tokens, "|",
               plan.settings.val_fraction, "|", plan.settings.jsonl_field, "|",
               plan.settings.unit_bytes, "\n"));
  for (const auto& s : plan.sources) {
    const std::string content =
        s.kind == SourceKind::kMemory ? sha256_hex(*s.text) : str(s.mtime_ns);
    h.update(str(s.name, "|", static_cast<int>(s.kind), "|", s.size, "|", content, "\n"));
  }
  for (const auto& u : plan.units) {
    h.update(str(u.source, ",", u.begin, ",", u.end, ",", static_cast<int>(u.split), ",",
                 u.lead_eot, ";"));
  }
  return h.finish_hex();
}

// The tokens of one split on their way into shards.
struct SplitStream {
  Split split;
  std::vector<std::uint32_t> units;  // plan unit indices in order
  std::size_t next = 0;              // position in `units` of the next unit to consume
  std::uint64_t skip = 0;            // tokens of units[next] already in finished shards
  std::vector<std::uint16_t> buffer;
  int shard_index = 0;
};

bool is_our_shard_name(const std::string& name) {
  return (name.rfind("train_", 0) == 0 || name.rfind("val_", 0) == 0) && name.size() > 4 &&
         name.substr(name.size() - 4) == ".bin";
}

// Keeps the finished shards of an earlier run that are intact (exist, same SHA-256),
// contiguous from the start of each split; drops the rest with a warning.
std::vector<ManifestShard> verify_kept_shards(const Manifest& m, const std::string& out_dir) {
  std::vector<ManifestShard> kept;
  bool broken[2] = {false, false};
  for (const auto& s : m.shards) {
    const int si = s.split == "val";
    if (broken[si]) continue;
    const std::string path = (fs::path(out_dir) / s.file).string();
    std::string why;
    if (!fs::exists(path)) {
      why = "is missing";
    } else if (sha256_file(path) != s.sha256) {
      why = "changed since it was written (SHA-256 differs)";
    }
    if (!why.empty()) {
      log_warn("shard '", path, "' ", why, ": it and the later ", s.split,
               " shards are made again");
      broken[si] = true;
      continue;
    }
    kept.push_back(s);
  }
  return kept;
}

void remove_temp_files(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().filename().string().find(".tmp.") != std::string::npos) fs::remove(e.path(), ec);
  }
}

std::string unit_file(const std::string& work_dir, std::uint32_t unit) {
  char name[32];
  std::snprintf(name, sizeof name, "u%07u.bin", unit);
  return (fs::path(work_dir) / name).string();
}

// Everything one run needs while assembling shards.
class Assembler {
 public:
  Assembler(const Plan& plan, const PrepareOptions& opt, Manifest& manifest, std::string work_dir,
            PrepareResult& result)
      : plan_(plan),
        opt_(opt),
        manifest_(manifest),
        work_dir_(std::move(work_dir)),
        result_(result) {
    for (int s = 0; s < 2; ++s) streams_[s].split = static_cast<Split>(s);
    for (std::uint32_t i = 0; i < plan.units.size(); ++i) {
      streams_[static_cast<int>(plan.units[i].split)].units.push_back(i);
    }
    for (const auto& sh : manifest.shards) {  // resume after the last kept shard
      SplitStream& st = streams_[sh.split == "val"];
      st.next = sh.end_unit;
      st.skip = sh.end_token;
      st.shard_index += 1;
    }
  }

  // Units that still have to be consumed, in plan order.
  std::vector<std::uint32_t> pending_units() const {
    std::vector<std::uint32_t> out;
    for (const auto& st : streams_) {
      for (std::size_t k = st.next; k < st.units.size(); ++k) out.push_back(st.units[k]);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // Consumes every unit that is ready, in order, writing full shards.
  void advance(const std::vector<bool>& ready) {
    for (auto& st : streams_) {
      while (st.next < st.units.size() && ready[st.units[st.next]]) consume(st);
    }
  }

  // Writes the last (partial) shard of each split.
  void finish() {
    for (auto& st : streams_) {
      WEFT_CHECK(st.next == st.units.size(), "split not fully consumed");
      if (!st.buffer.empty()) write_shard(st, st.units.size(), 0);
    }
  }

 private:
  void consume(SplitStream& st) {
    const std::uint32_t unit = st.units[st.next];
    const std::vector<std::uint16_t> tokens =
        shard_read(unit_file(work_dir_, unit), manifest_.vocab_size);
    std::uint64_t pos = std::min<std::uint64_t>(st.skip, tokens.size());
    while (pos < tokens.size()) {
      const std::uint64_t take =
          std::min<std::uint64_t>(opt_.shard_tokens - st.buffer.size(), tokens.size() - pos);
      st.buffer.insert(st.buffer.end(), tokens.begin() + static_cast<std::ptrdiff_t>(pos),
                       tokens.begin() + static_cast<std::ptrdiff_t>(pos + take));
      pos += take;
      if (st.buffer.size() == opt_.shard_tokens) write_shard(st, st.next, pos);
    }
    st.next += 1;
    st.skip = 0;
  }

  void write_shard(SplitStream& st, std::size_t end_unit, std::uint64_t end_token) {
    char name[48];
    std::snprintf(name, sizeof name, "%s_%06d.bin", split_name(st.split), st.shard_index);
    const std::string path = (fs::path(opt_.out_dir) / name).string();
    shard_write(path, st.buffer);
    ManifestShard sh;
    sh.file = name;
    sh.split = split_name(st.split);
    sh.tokens = st.buffer.size();
    sh.sha256 = sha256_file(path);
    sh.end_unit = end_unit;
    sh.end_token = end_token;
    manifest_.shards.push_back(sh);
    // Train shards first, then val, each in index order: independent of worker timing.
    std::stable_sort(manifest_.shards.begin(), manifest_.shards.end(),
                     [](const auto& a, const auto& b) {
                       return std::make_pair(a.split == "val", a.file) <
                              std::make_pair(b.split == "val", b.file);
                     });
    manifest_write((fs::path(opt_.out_dir) / "manifest.json").string(), manifest_);
    result_.shards_written += 1;
    st.shard_index += 1;
    st.buffer.clear();
    // Unit files wholly inside finished shards are no longer needed.
    for (std::size_t k = 0; k < end_unit && k < st.units.size(); ++k) {
      std::error_code ec;
      fs::remove(unit_file(work_dir_, st.units[k]), ec);
    }
  }

  const Plan& plan_;
  const PrepareOptions& opt_;
  Manifest& manifest_;
  std::string work_dir_;
  PrepareResult& result_;
  SplitStream streams_[2];
};

void check_options(const TokenEncoder& encoder, const PrepareOptions& opt) {
  if (encoder.vocab_size() > kShardMaxVocab) {
    throw input_error(str("tokenizer '", encoder.name(), "' has ", encoder.vocab_size(),
                          " tokens, but shards store uint16 ids: at most ", kShardMaxVocab),
                      "train a tokenizer with --vocab-size 65535 or less");
  }
  if (opt.workers < 1 || opt.workers > 1024)
    throw input_error(str("--workers ", opt.workers, ": must be 1..1024"));
  if (opt.shard_tokens < 1 || opt.shard_tokens > static_cast<std::uint64_t>(INT32_MAX)) {
    throw input_error(str("--shard-tokens ", opt.shard_tokens, ": must be 1..", INT32_MAX));
  }
  if (!(opt.plan.val_fraction >= 0.0 && opt.plan.val_fraction < 1.0)) {
    throw input_error(str("--val-fraction ", opt.plan.val_fraction, ": must be in [0, 1)"));
  }
}

// Reads the manifest of an earlier run in `out_dir`, if any, and decides what is kept.
Manifest start_manifest(const std::string& out_dir, const std::string& phash,
                        const TokenEncoder& encoder, const PrepareOptions& opt, const Plan& plan) {
  const std::string mpath = (fs::path(out_dir) / "manifest.json").string();
  Manifest m;
  if (fs::exists(mpath)) {
    Manifest old = manifest_read(mpath);
    if (old.plan_hash != phash) {
      throw input_error(
          str("output directory '", out_dir,
              "' holds shards of another run (different inputs, tokenizer or settings); "
              "refusing to overwrite them"),
          "choose another --out, or delete that directory to start again");
    }
    m = old;
    m.shards = verify_kept_shards(old, out_dir);
    m.complete = old.complete && m.shards.size() == old.shards.size();
  } else {
    for (const auto& e : fs::directory_iterator(out_dir)) {
      if (is_our_shard_name(e.path().filename().string())) {
        throw input_error(
            str("output directory '", out_dir, "' holds shard files (",
                e.path().filename().string(), ") but no manifest.json; refusing to overwrite them"),
            "choose another --out");
      }
    }
  }
  m.tokenizer_name = encoder.name();
  m.tokenizer_hash = encoder.content_hash();
  m.vocab_size = encoder.vocab_size();
  m.eot_id = encoder.eot_id();
  m.plan_hash = phash;
  m.shard_tokens = opt.shard_tokens;
  m.val_fraction = opt.plan.val_fraction;
  m.inputs.clear();
  for (const auto& s : plan.sources) m.inputs.push_back(s.name);
  return m;
}

}  // namespace

PrepareResult etl_prepare(std::vector<Source> sources, const TokenEncoder& encoder,
                          const PrepareOptions& opt) {
  check_options(encoder, opt);
  Stopwatch watch;
  PrepareResult result;
  std::error_code ec;
  fs::create_directories(opt.out_dir, ec);
  if (ec) throw io_error(str("cannot create output directory '", opt.out_dir, "': ", ec.message()));
  DirLock lock(opt.out_dir);

  const Plan plan = etl_make_plan(std::move(sources), opt.plan);
  const std::string phash = plan_hash(plan, encoder, opt.shard_tokens);
  Manifest manifest = start_manifest(opt.out_dir, phash, encoder, opt, plan);
  result.shards_kept = static_cast<int>(manifest.shards.size());
  const std::string mpath = (fs::path(opt.out_dir) / "manifest.json").string();
  const std::string work_dir = (fs::path(opt.out_dir) / (".work-" + phash.substr(0, 16))).string();
  if (manifest.complete) {
    log_info("data prepare: all ", manifest.shards.size(), " shards in '", opt.out_dir,
             "' are finished and intact; nothing to do");
    result.manifest = manifest;
    result.seconds = watch.seconds();
    return result;
  }
  manifest_write(mpath, manifest);  // before any shard: shards never exist without a manifest
  remove_temp_files(opt.out_dir);
  fs::create_directories(work_dir, ec);
  if (ec) throw io_error(str("cannot create work directory '", work_dir, "': ", ec.message()));
  remove_temp_files(work_dir);

  Assembler assembler(plan, opt, manifest, work_dir, result);
  std::vector<bool> ready(plan.units.size(), false);
  std::deque<std::uint32_t> todo;
  std::uint64_t todo_bytes = 0;
  for (std::uint32_t u : assembler.pending_units()) {
    // A unit file left by an interrupted run of the same plan is reused if its header is sound.
    const std::string uf = unit_file(work_dir, u);
    try {
      ready[u] = fs::exists(uf) && (shard_read_header(uf), true);
    } catch (const Error&) {
      ready[u] = false;
    }
    if (!ready[u]) {
      todo.push_back(u);
      todo_bytes += plan.units[u].end - plan.units[u].begin;
    }
  }
  log_info("data prepare: ", plan.sources.size(), " inputs, ",
           format_bytes(static_cast<double>(plan.total_bytes)), ", ", plan.units.size(), " units; ",
           result.shards_kept, " shards kept, ", todo.size(), " units to tokenize with ",
           opt.workers, " worker process(es)");

  assembler.advance(ready);
  if (!todo.empty()) {
    ProgressBar bar("tokenizing", todo_bytes, ProgressUnit::kBytes, !opt.progress);
    EtlWorkerPool pool(std::min<int>(opt.workers, static_cast<int>(todo.size())),
                       [&](std::uint32_t u) {
                         const auto tokens = etl_tokenize_unit(plan, plan.units[u], encoder);
                         shard_write(unit_file(work_dir, u), tokens,
                                     /*durable=*/false);  // scratch: remade if lost
                         return static_cast<std::uint64_t>(tokens.size());
                       });
    std::vector<int> in_flight(static_cast<std::size_t>(pool.size()), 0);
    std::size_t outstanding = 0;
    auto dispatch = [&] {
      for (int w = 0; w < pool.size() && !todo.empty(); ++w) {
        while (in_flight[static_cast<std::size_t>(w)] < 2 && !todo.empty()) {
          pool.submit(w, todo.front());
          todo.pop_front();
          in_flight[static_cast<std::size_t>(w)] += 1;
          ++outstanding;
        }
      }
    };
    dispatch();
    while (outstanding > 0) {
      const auto r = pool.wait();
      in_flight[static_cast<std::size_t>(r.worker)] -= 1;
      --outstanding;
      ready[r.unit] = true;
      result.bytes_tokenized += plan.units[r.unit].end - plan.units[r.unit].begin;
      result.tokens_tokenized += r.tokens;
      dispatch();
      const double t = watch.seconds();
      bar.set_note(
          str(format_count(static_cast<double>(result.tokens_tokenized)), " tokens, ",
              format_count(static_cast<double>(result.tokens_tokenized) / std::max(t, 1e-9)),
              " tok/s"));
      bar.set(result.bytes_tokenized);
      assembler.advance(ready);
    }
    pool.close();
    bar.finish();
  }
  assembler.finish();
  manifest.complete = true;
  manifest_write(mpath, manifest);
  fs::remove_all(work_dir, ec);
  result.manifest = manifest;
  result.seconds = watch.seconds();
  log_info("data prepare: ", manifest.split_shards("train").size(), " train shards (",
           manifest.split_tokens("train"), " tokens), ", manifest.split_shards("val").size(),
           " val shards (", manifest.split_tokens("val"), " tokens) in '", opt.out_dir, "'; ",
           result.shards_written, " written, ", result.shards_kept, " kept");
  return result;
}

void etl_verify(const std::string& manifest_path) {
  const Manifest m = manifest_read(manifest_path);
  const fs::path dir = fs::path(manifest_path).parent_path();
  if (!m.complete) {
    throw input_error(str("manifest '", manifest_path, "': the run that wrote it did not finish"),
                      "re-run the same `weft data prepare` command to complete it");
  }
  for (const auto& s : m.shards) {
    const std::string path = (dir / s.file).string();
    if (!fs::exists(path)) {
      throw input_error(
          str("manifest '", manifest_path, "' lists shard '", path, "', which is missing"),
          "re-run `weft data prepare` to make it again");
    }
    const std::uint64_t n = shard_read_header(path);
    if (n != s.tokens) {
      throw input_error(str("shard '", path, "' holds ", n, " tokens but manifest '", manifest_path,
                            "' lists ", s.tokens));
    }
    if (sha256_file(path) != s.sha256) {
      throw input_error(str("shard '", path, "' changed since manifest '", manifest_path,
                            "' was written (SHA-256 differs)"),
                        "re-run `weft data prepare` to make it again");
    }
  }
}

}  // namespace weft::data
