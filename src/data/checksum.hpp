// SHA-256 checksums for shards and manifests, computed with OpenSSL's libcrypto
// (not hand-written). Returns lowercase hex strings owned by the caller.
// Sha256 is a value owned by one thread; the free functions may run on any thread.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace weft::data {

// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, std::size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string hex_digest();  // finishes; call once

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

std::string sha256_hex(std::string_view bytes);
// SHA-256 of a whole file; throws weft::Error (kIo) naming the path.
std::string sha256_file(const std::string& path);

}  // namespace weft::data
