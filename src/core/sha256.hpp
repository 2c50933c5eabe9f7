// SHA-256 content hashes (tokenizer files, data manifests, checkpoints), computed by
// OpenSSL's libcrypto (Debian libssl-dev) rather than by hand. A Sha256 object is
// used by one thread at a time and owns its OpenSSL context; sha256_hex is thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace weft {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(const void* data, std::size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::array<uint8_t, 32> finish();  // the object must not be updated afterwards
  std::string finish_hex();

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};

// Lower-case hex digest of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace weft
