// Remote shards: the loader over http:// (a cpp-httplib server on 127.0.0.1 in this
// process) reads the same batches as over local files, with Range requests only,
// and a second run is served from the local block cache without shard requests.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "data/http_fetch.hpp"
#include "data/loader.hpp"
#include "loader_test_data.hpp"

namespace weft::data {
namespace {

using namespace weft::data::testing;

// Serves `root` on 127.0.0.1 (a free port) and records each request.
class TestServer {
 public:
  explicit TestServer(const std::string& root) {
    server_.set_mount_point("/", root);
    server_.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      log_.push_back({req.path, req.get_header_value("Range"), res.status});
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~TestServer() {
    server_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  struct Entry {
    std::string path, range;
    int status;
  };
  std::vector<Entry> log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mu_);
    log_.clear();
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Entry> log_;
};

std::vector<std::int32_t> run(DataLoader& dl, int B, int T, int steps) {
  std::vector<std::int32_t> all, x(static_cast<std::size_t>(B * T)),
      y(static_cast<std::size_t>(B * T));
  for (int s = 0; s < steps; ++s) {
    dl.next_batch(x.data(), y.data());
    all.insert(all.end(), x.begin(), x.end());
    all.insert(all.end(), y.begin(), y.end());
  }
  return all;
}

TEST(DataLoaderHttp, RemoteShardsMatchLocalAndAreCached) {
  TempDir dir;
  // Shards larger than one 1 MiB cache block, so reads cross block boundaries.
  // Ids wrap around uint16 in shards this long: vocabulary 0 (unchecked).
  const auto manifest = make_position_shards(dir / "d", 0, {600000, 9000, 700000});
  TestServer server(dir / "d");
  LoaderConfig c;
  c.source = manifest;
  c.B = 4;
  c.T = 256;
  c.rank = 1;
  c.world = 2;
  c.cache_dir = dir / "cache";
  const int steps = 700;  // more than one epoch (637 windows)
  DataLoader local(c);
  const auto want = run(local, c.B, c.T, steps);

  c.source = server.url("/manifest.json");
  {
    DataLoader remote(c);
    EXPECT_EQ(run(remote, c.B, c.T, steps), want);
  }
  const auto first = server.log();
  int shard_requests = 0;
  for (const auto& e : first) {
    if (e.path == "/manifest.json") continue;
    ++shard_requests;
    EXPECT_EQ(e.range.rfind("bytes=", 0), 0u) << e.path << " fetched without a Range header";
    EXPECT_EQ(e.status, 206) << e.path;
  }
  EXPECT_GE(shard_requests, 3);
  EXPECT_LE(shard_requests,
            3 + 2 * 3);  // about one request per 1 MiB block: 1.2 MB + 18 kB + 1.4 MB

  server.clear();
  {
    DataLoader again(c);
    EXPECT_EQ(run(again, c.B, c.T, steps), want);
  }
  for (const auto& e : server.log())
    EXPECT_EQ(e.path, "/manifest.json") << "shard fetched again: " << e.path;
}

TEST(DataLoaderHttp, MissingRemoteShardNamesTheUrl) {
  TempDir dir;
  const auto manifest = make_position_shards(dir / "d");
  fs::remove(dir / "d/train_000001.bin");
  TestServer server(dir / "d");
  LoaderConfig c;
  c.source = server.url("/manifest.json");
  c.B = 8;
  c.T = 16;
  c.shuffle = false;
  c.cache_dir = dir / "cache";
  DataLoader dl(c);
  std::vector<std::int32_t> x(128), y(128);
  std::string msg = "<no error>";
  for (int s = 0; s < 40 && msg == "<no error>"; ++s)
    msg = error_of([&] { dl.next_batch(x.data(), y.data()); });
  EXPECT_NE(msg.find(server.url("/train_000001.bin") + "': HTTP status 404"), std::string::npos)
      << msg;
  // Nothing listening: a clear I/O error, not a hang.
  msg = error_of([] { http_get_range("http://127.0.0.1:9/x.bin", 0, 10); });
  EXPECT_NE(msg.find("cannot fetch 'http://127.0.0.1:9/x.bin'"), std::string::npos) << msg;
}

}  // namespace
}  // namespace weft::data
