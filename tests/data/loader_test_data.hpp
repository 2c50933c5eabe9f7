// Test shards whose every token tells where it came from: token i of shard k has
// the id k*10000 + i, so a batch's content can be checked without the loader's code.
#pragma once

#include <string>
#include <vector>

#include "data/checksum.hpp"
#include "data/manifest.hpp"
#include "data/shard_file.hpp"
#include "data_test_util.hpp"

namespace weft::data::testing {

inline const std::vector<std::uint64_t> kShardSizes = {3000, 1500, 4000, 700, 2500};

// Writes the shards and a complete manifest (split train) into `dir`; returns its path.
inline std::string make_position_shards(const std::string& dir, std::uint32_t vocab = 60000,
                                        const std::vector<std::uint64_t>& sizes = kShardSizes) {
  fs::create_directories(dir);
  Manifest m;
  m.complete = true;
  m.tokenizer_name = "positions";
  m.tokenizer_hash = "none";
  m.vocab_size = vocab;
  m.eot_id = 0;
  m.plan_hash = "test";
  m.shard_tokens = 4000;
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    std::vector<std::uint16_t> t(sizes[k]);
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<std::uint16_t>(k * 10000 + i);
    const std::string name = "train_00000" + std::to_string(k) + ".bin";
    shard_write(dir + "/" + name, t);
    m.shards.push_back({name, "train", sizes[k], sha256_file(dir + "/" + name), 0, 0});
  }
  manifest_write(dir + "/manifest.json", m);
  return dir + "/manifest.json";
}

}  // namespace weft::data::testing
