// Distributed loader: rank slices form the single-rank batch, every window once per
// epoch, seeded reshuffling, exact resume (also under another rank count), bad data.
#include <gtest/gtest.h>

#include <set>

#include "data/loader.hpp"
#include "loader_test_data.hpp"

namespace weft::data {
namespace {

using namespace weft::data::testing;

struct Step {
  std::vector<std::int32_t> x, y;
};

std::vector<Step> take(DataLoader& dl, int B, int T, int steps) {
  std::vector<Step> out;
  for (int s = 0; s < steps; ++s) {
    Step st{std::vector<std::int32_t>(static_cast<std::size_t>(B * T)),
            std::vector<std::int32_t>(static_cast<std::size_t>(B * T))};
    dl.next_batch(st.x.data(), st.y.data());
    out.push_back(std::move(st));
  }
  return out;
}

LoaderConfig config(const std::string& manifest, int B, int T, int rank = 0, int world = 1) {
  LoaderConfig c;
  c.source = manifest;
  c.B = B;
  c.T = T;
  c.rank = rank;
  c.world = world;
  c.seed = 7;
  return c;
}

constexpr int kT = 16;
constexpr int kGlobalB = 8;  // G = 128 tokens

// Σ floor((n - 1) / G) over the shards, computed here from the sizes alone.
std::uint64_t expected_windows_per_epoch() {
  std::uint64_t w = 0;
  for (auto n : kShardSizes) w += (n - 1) / (kGlobalB * kT);
  return w;
}

TEST(DataLoader, EveryWindowOncePerEpochAsContiguousTokens) {
  TempDir dir;
  const auto manifest = make_position_shards(dir / "d");
  DataLoader dl(config(manifest, kGlobalB, kT));
  const std::uint64_t per_epoch = expected_windows_per_epoch();
  ASSERT_EQ(dl.batches_per_epoch(), per_epoch);
  std::vector<std::set<std::pair<int, int>>> seen(2);  // (shard, window start) per epoch
  std::vector<std::vector<int>> shard_sequence(2);
  for (int e = 0; e < 2; ++e) {
    for (const auto& st : take(dl, kGlobalB, kT, static_cast<int>(per_epoch))) {
      for (std::size_t i = 0; i < st.x.size(); ++i) {
        ASSERT_EQ(st.y[i], st.x[i] + 1);  // targets are the next tokens
        if (i > 0) {
          ASSERT_EQ(st.x[i], st.x[i - 1] + 1);  // rows are contiguous
        }
      }
      const int shard = st.x[0] / 10000, start = st.x[0] % 10000;
      EXPECT_EQ(start % (kGlobalB * kT), 0);
      EXPECT_TRUE(seen[e].insert({shard, start}).second) << "window repeated in epoch " << e;
      if (shard_sequence[e].empty() || shard_sequence[e].back() != shard)
        shard_sequence[e].push_back(shard);
    }
    EXPECT_EQ(seen[e].size(), per_epoch);
    EXPECT_EQ(shard_sequence[e].size(), kShardSizes.size());  // each shard read in one stretch
  }
  EXPECT_EQ(seen[0], seen[1]);
  EXPECT_NE(shard_sequence[0], shard_sequence[1]) << "shard order not reshuffled per epoch";
  EXPECT_EQ(dl.state().epoch, 2u);
}

TEST(DataLoader, RankSlicesUnionIsTheSingleRankBatch) {
  TempDir dir;
  const auto manifest = make_position_shards(dir / "d");
  const int steps = 130;  // crosses an epoch boundary
  DataLoader single(config(manifest, kGlobalB, kT));
  const auto ref = take(single, kGlobalB, kT, steps);
  for (int world : {2, 4}) {
    const int B = kGlobalB / world;
    std::vector<std::vector<Step>> per_rank;
    for (int r = 0; r < world; ++r) {
      DataLoader dl(config(manifest, B, kT, r, world));
      per_rank.push_back(take(dl, B, kT, steps));
    }
    for (int s = 0; s < steps; ++s) {
      std::vector<std::int32_t> x, y;
      for (int r = 0; r < world; ++r) {
        x.insert(x.end(), per_rank[r][s].x.begin(), per_rank[r][s].x.end());
        y.insert(y.end(), per_rank[r][s].y.begin(), per_rank[r][s].y.end());
      }
      ASSERT_EQ(x, ref[s].x) << "world " << world << " step " << s;
      ASSERT_EQ(y, ref[s].y) << "world " << world << " step " << s;
    }
  }
}

TEST(DataLoader, ResumeAtStepKEqualsUninterrupted) {
  TempDir dir;
  const auto manifest = make_position_shards(dir / "d");
  DataLoader full(config(manifest, kGlobalB, kT));
  const auto ref = take(full, kGlobalB, kT, 120);
  for (int k : {0, 1, 22, 88, 89, 100}) {
    DataLoader a(config(manifest, kGlobalB, kT));
    take(a, kGlobalB, kT, k);
    const std::string saved = a.state().to_json();
    DataLoader b(config(manifest, kGlobalB, kT));
    take(b, kGlobalB, kT, 3);  // somewhere else first: restore must override it
    b.restore(LoaderState::from_json(saved));
    EXPECT_EQ(b.state().steps, static_cast<std::uint64_t>(k));
    const auto rest = take(b, kGlobalB, kT, 120 - k);
    for (int s = k; s < 120; ++s)
      ASSERT_EQ(rest[s - k].x, ref[s].x) << "resume at " << k << ", step " << s;
  }
  // Saved with 1 rank, resumed with 2 ranks of half the rows: same global batches.
  DataLoader a(config(manifest, kGlobalB, kT));
  take(a, kGlobalB, kT, 50);
  const LoaderState st = a.state();
  DataLoader r0(config(manifest, kGlobalB / 2, kT, 0, 2)),
      r1(config(manifest, kGlobalB / 2, kT, 1, 2));
  r0.restore(st);
  r1.restore(st);
  for (int s = 50; s < 60; ++s) {
    auto x0 = take(r0, kGlobalB / 2, kT, 1)[0].x;
    const auto x1 = take(r1, kGlobalB / 2, kT, 1)[0].x;
    x0.insert(x0.end(), x1.begin(), x1.end());
    ASSERT_EQ(x0, ref[s].x) << "step " << s;
  }
}

TEST(DataLoader, SeedFixesOrderAndPrefetchChangesNothing) {
  TempDir dir;
  const auto manifest = make_position_shards(dir / "d");
  auto c = config(manifest, kGlobalB, kT);
  DataLoader a(c), b(c);
  c.prefetch = false;
  DataLoader no_prefetch(c);
  c.seed = 8;
  c.prefetch = true;
  DataLoader other(c);
  const auto ra = take(a, kGlobalB, kT, 40), rb = take(b, kGlobalB, kT, 40);
  const auto rn = take(no_prefetch, kGlobalB, kT, 40), ro = take(other, kGlobalB, kT, 40);
  int differ = 0;
  for (int s = 0; s < 40; ++s) {
    EXPECT_EQ(ra[s].x, rb[s].x);
    EXPECT_EQ(ra[s].x, rn[s].x);
    differ += ra[s].x != ro[s].x;
  }
  EXPECT_GT(differ, 30);
  c.shuffle = false;  // file order: shard 0's windows first, in order
  DataLoader plain(c);
  const auto rp = take(plain, kGlobalB, kT, 3);
  EXPECT_EQ(rp[0].x[0], 0);
  EXPECT_EQ(rp[1].x[0], 128);
  EXPECT_EQ(rp[2].x[0], 256);
}

TEST(DataLoader, LlmcShardGlobWithoutManifest) {
  TempDir dir;
  make_position_shards(dir / "d");
  DataLoader dl(config(dir / "d/train_*.bin", kGlobalB, kT));
  EXPECT_EQ(dl.num_shards(), kShardSizes.size());
  EXPECT_EQ(dl.batches_per_epoch(), expected_windows_per_epoch());
}

TEST(DataLoader, BadDataGivesClearErrors) {
  TempDir dir;
  auto manifest = make_position_shards(dir / "d");
  // Missing shard: at construction, naming it.
  fs::rename(dir / "d/train_000003.bin", dir / "moved.bin");
  auto msg = error_of([&] { DataLoader dl(config(manifest, kGlobalB, kT)); });
  EXPECT_NE(msg.find("train_000003.bin', which is missing"), std::string::npos) << msg;
  fs::rename(dir / "moved.bin", dir / "d/train_000003.bin");

  // Changed shard: SHA-256 mismatch on first use, naming it.
  std::string bytes = read_file(dir / "d/train_000002.bin");
  bytes[2000] ^= 1;
  write_file(dir / "d/train_000002.bin", bytes);
  {
    auto c = config(manifest, kGlobalB, kT);
    c.shuffle = false;
    DataLoader dl(c);
    std::vector<std::int32_t> x(kGlobalB * kT), y(kGlobalB * kT);
    for (int s = 0; s < 23 + 11; ++s) dl.next_batch(x.data(), y.data());  // shards 0 and 1 are fine
    msg = error_of([&] { dl.next_batch(x.data(), y.data()); });
    EXPECT_NE(msg.find("train_000002.bin' changed since the manifest was written"),
              std::string::npos)
        << msg;
  }

  // Ids >= the manifest's vocabulary.
  manifest = make_position_shards(dir / "v", 25000);
  {
    auto c = config(manifest, kGlobalB, kT);
    c.shuffle = false;
    DataLoader dl(c);
    std::vector<std::int32_t> x(kGlobalB * kT), y(kGlobalB * kT);
    msg = "<no error>";
    for (int s = 0; s < 100 && msg == "<no error>"; ++s)
      msg = error_of([&] { dl.next_batch(x.data(), y.data()); });
    EXPECT_NE(
        msg.find("train_000003.bin': token 0 has id 30000, not below the vocabulary size 25000"),
        std::string::npos)
        << msg;
  }

  // Wrong header (the manifest's checksum matches the bad file, so the header check speaks).
  manifest = make_position_shards(dir / "h", 60000, {500});
  bytes = read_file(dir / "h/train_000000.bin");
  bytes[0] = 1;
  write_file(dir / "h/train_000000.bin", bytes);
  Manifest m = manifest_read(manifest);
  m.shards[0].sha256 = sha256_file(dir / "h/train_000000.bin");
  manifest_write(manifest, m);
  {
    DataLoader dl(config(manifest, 2, kT));
    std::vector<std::int32_t> x(2 * kT), y(2 * kT);
    msg = error_of([&] { dl.next_batch(x.data(), y.data()); });
    EXPECT_NE(msg.find("train_000000.bin': wrong magic"), std::string::npos) << msg;
  }

  // Too little data for one global batch; a state for another global batch; an unfinished manifest.
  msg = error_of([&] { DataLoader dl(config(manifest, 64, 64)); });
  EXPECT_NE(msg.find("one global batch needs 4097 tokens"), std::string::npos) << msg;
  manifest = make_position_shards(dir / "s");
  DataLoader dl(config(manifest, kGlobalB, kT));
  LoaderState st = dl.state();
  st.global_batch_tokens = 64;
  msg = error_of([&] { dl.restore(st); });
  EXPECT_NE(msg.find("global batch of 64 tokens"), std::string::npos) << msg;
  msg = error_of([&] {
    LoaderState::from_json("{\"format\": \"weft-loader-state\", \"version\": 1}",
                           "ckpt/loader.json");
  });
  EXPECT_NE(msg.find("ckpt/loader.json: malformed"), std::string::npos) << msg;
  m = manifest_read(manifest);
  m.complete = false;
  manifest_write(manifest, m);
  msg = error_of([&] { DataLoader d2(config(manifest, kGlobalB, kT)); });
  EXPECT_NE(msg.find("did not finish"), std::string::npos) << msg;
}

}  // namespace
}  // namespace weft::data
