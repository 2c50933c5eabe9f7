// HTTP GETs through libcurl for remote shards and manifests: whole bodies and byte
// ranges (Range: bytes=a-b), with connect/low-speed timeouts and a few retries.
// Any thread may call these (each call uses its own curl handle).
#pragma once

#include <cstdint>
#include <string>

namespace weft::data {

struct HttpRange {
  std::string body;
  std::uint64_t total_size = 0;  // from Content-Range ("bytes a-b/TOTAL")
};

// GET `url`; throws weft::Error (kIo) naming the URL on failure or a non-2xx status.
std::string http_get(const std::string& url);

// GET bytes [first, last] (inclusive) of `url`. The server must answer 206 Partial
// Content; a 200 (Range ignored) is an error with a hint.
HttpRange http_get_range(const std::string& url, std::uint64_t first, std::uint64_t last);

}  // namespace weft::data
