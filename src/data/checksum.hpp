// SHA-256 checksums of whole files (shards, manifests). The hash itself is
// core/sha256 (OpenSSL libcrypto); this adds streaming a file through it.
// Returns lowercase hex strings owned by the caller; any thread.
#pragma once

#include <string>

#include "core/sha256.hpp"

namespace weft::data {

using weft::Sha256;
using weft::sha256_hex;

// SHA-256 of a whole file; throws weft::Error (kIo) naming the path.
std::string sha256_file(const std::string& path);

}  // namespace weft::data
