// manifest.json (de)serialisation. See manifest.hpp.
#include "data/manifest.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace weft::data {

using nlohmann::json;

std::uint64_t Manifest::split_tokens(const std::string& split) const {
  std::uint64_t n = 0;
  for (const auto& s : shards) n += s.split == split ? s.tokens : 0;
  return n;
}

std::vector<const ManifestShard*> Manifest::split_shards(const std::string& split) const {
  std::vector<const ManifestShard*> out;
  for (const auto& s : shards) {
    if (s.split == split) out.push_back(&s);
  }
  return out;
}

std::string manifest_dump(const Manifest& m) {
  json shards = json::array();
  for (const auto& s : m.shards) {
    shards.push_back({{"file", s.file},
                      {"split", s.split},
                      {"tokens", s.tokens},
                      {"sha256", s.sha256},
                      {"end_unit", s.end_unit},
                      {"end_token", s.end_token}});
  }
  json j = {
      {"format", kManifestFormat},
      {"version", kManifestVersion},
      {"complete", m.complete},
      {"tokenizer",
       {{"name", m.tokenizer_name},
        {"content_hash", m.tokenizer_hash},
        {"vocab_size", m.vocab_size},
        {"eot_id", m.eot_id}}},
      {"plan_hash", m.plan_hash},
      {"shard_tokens", m.shard_tokens},
      {"val_fraction", m.val_fraction},
      {"inputs", m.inputs},
      {"splits",
       {{"train",
         {{"tokens", m.split_tokens("train")}, {"shards", m.split_shards("train").size()}}},
        {"val", {{"tokens", m.split_tokens("val")}, {"shards", m.split_shards("val").size()}}}}},
      {"shards", shards},
  };
  return j.dump(2) + "\n";
}

Manifest manifest_parse(const std::string& text, const std::string& name) {
  const std::string hint = "regenerate it with `weft data prepare`";
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw input_error(str("manifest '", name, "': not valid JSON: ", e.what()), hint);
  }
  if (!j.is_object() || j.value("format", "") != kManifestFormat) {
    throw input_error(
        str("manifest '", name, "': not a weft data manifest (field 'format' is not '",
            kManifestFormat, "')"),
        hint);
  }
  const int version = j.value("version", -1);
  if (version != kManifestVersion) {
    throw input_error(str("manifest '", name, "': format version ", version,
                          " is not supported (this weft reads version ", kManifestVersion, ")"),
                      hint);
  }
  Manifest m;
  try {
    m.complete = j.at("complete").get<bool>();
    const auto& t = j.at("tokenizer");
    m.tokenizer_name = t.at("name").get<std::string>();
    m.tokenizer_hash = t.at("content_hash").get<std::string>();
    m.vocab_size = t.at("vocab_size").get<std::uint32_t>();
    m.eot_id = t.at("eot_id").get<std::uint32_t>();
    m.plan_hash = j.at("plan_hash").get<std::string>();
    m.shard_tokens = j.at("shard_tokens").get<std::uint64_t>();
    m.val_fraction = j.at("val_fraction").get<double>();
    m.inputs = j.at("inputs").get<std::vector<std::string>>();
    for (const auto& s : j.at("shards")) {
      ManifestShard sh;
      sh.file = s.at("file").get<std::string>();
      sh.split = s.at("split").get<std::string>();
      sh.tokens = s.at("tokens").get<std::uint64_t>();
      sh.sha256 = s.at("sha256").get<std::string>();
      sh.end_unit = s.value("end_unit", std::uint64_t{0});
      sh.end_token = s.value("end_token", std::uint64_t{0});
      if (sh.split != "train" && sh.split != "val") {
        throw input_error(str("manifest '", name, "': shard '", sh.file, "' has split '", sh.split,
                              "' (expected train or val)"),
                          hint);
      }
      m.shards.push_back(std::move(sh));
    }
  } catch (const json::exception& e) {
    throw input_error(str("manifest '", name, "': missing or mistyped field: ", e.what()), hint);
  }
  return m;
}

Manifest manifest_read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error_errno("cannot open manifest", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return manifest_parse(ss.str(), path);
}

void manifest_write(const std::string& path, const Manifest& m) {
  const std::string text = manifest_dump(m);
  file_write_atomic(path, text.data(), text.size());
}

}  // namespace weft::data
