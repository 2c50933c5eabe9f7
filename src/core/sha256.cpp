// SHA-256 through OpenSSL's EVP interface. See sha256.hpp.
#include "core/sha256.hpp"

#include <openssl/evp.h>

#include "core/error.hpp"

namespace weft {

struct Sha256::Context {
  EVP_MD_CTX* md = nullptr;
  ~Context() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : ctx_(std::make_unique<Context>()) {
  ctx_->md = EVP_MD_CTX_new();
  WEFT_CHECK(ctx_->md != nullptr, "EVP_MD_CTX_new failed");
  WEFT_CHECK(EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) == 1, "EVP_DigestInit_ex failed");
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, std::size_t size) {
  if (size == 0) return;
  WEFT_CHECK(EVP_DigestUpdate(ctx_->md, data, size) == 1, "EVP_DigestUpdate failed");
}

std::array<uint8_t, 32> Sha256::finish() {
  std::array<uint8_t, 32> out{};
  unsigned int len = 0;
  WEFT_CHECK(EVP_DigestFinal_ex(ctx_->md, out.data(), &len) == 1 && len == 32,
             "EVP_DigestFinal_ex failed");
  return out;
}

std::string Sha256::finish_hex() {
  static const char* kHex = "0123456789abcdef";
  const auto digest = finish();
  std::string hex(64, '0');
  for (int i = 0; i < 32; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 15];
  }
  return hex;
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.finish_hex();
}

}  // namespace weft
