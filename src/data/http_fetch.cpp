// libcurl easy-interface GETs. See http_fetch.hpp.
#include "data/http_fetch.hpp"

#include <curl/curl.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "core/error.hpp"

namespace weft::data {
namespace {

void curl_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Response {
  long status = 0;
  std::string body;
  std::string content_range;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<Response*>(user)->body.append(data, size * n);
  return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  std::string line(data, size * n);
  const std::string key = "content-range:";
  if (line.size() > key.size()) {
    std::string head = line.substr(0, key.size());
    for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (head == key) {
      auto v = line.substr(key.size());
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.pop_back();
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      static_cast<Response*>(user)->content_range = v;
    }
  }
  return size * n;
}

// One GET with retries on transport errors and 5xx. `range` empty = whole body.
Response get(const std::string& url, const std::string& range) {
  curl_init_once();
  std::string last_error;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
    std::unique_ptr<CURL, void (*)(CURL*)> h(curl_easy_init(), curl_easy_cleanup);
    if (!h) throw io_error(str("cannot fetch '", url, "': curl_easy_init failed"));
    Response r;
    char err[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(h.get(), CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h.get(), CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(h.get(), CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(h.get(), CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h.get(), CURLOPT_CONNECTTIMEOUT, 30L);
    // Abort a transfer slower than 1 byte/s for 60 s (a hung server).
    curl_easy_setopt(h.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h.get(), CURLOPT_LOW_SPEED_TIME, 60L);
    if (!range.empty()) curl_easy_setopt(h.get(), CURLOPT_RANGE, range.c_str());
    const CURLcode rc = curl_easy_perform(h.get());
    if (rc != CURLE_OK) {
      last_error = err[0] ? err : curl_easy_strerror(rc);
      continue;
    }
    curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &r.status);
    if (r.status >= 500) {
      last_error = str("HTTP status ", r.status);
      continue;
    }
    if (r.status < 200 || r.status >= 300) {
      throw io_error(str("cannot fetch '", url, "': HTTP status ", r.status),
                     r.status == 404 ? "check the URL and that the shard was uploaded" : "");
    }
    return r;
  }
  throw io_error(str("cannot fetch '", url, "': ", last_error, " (3 attempts)"),
                 "check the network and that the server is up");
}

}  // namespace

std::string http_get(const std::string& url) {
  return get(url, "").body;
}

HttpRange http_get_range(const std::string& url, std::uint64_t first, std::uint64_t last) {
  Response r = get(url, str(first, "-", last));
  if (r.status != 206) {
    throw io_error(
        str("cannot read '", url, "': the server ignored the Range request (HTTP ", r.status, ")"),
        "serve shards from a server that supports range requests (S3, GCS, nginx)");
  }
  HttpRange out;
  const auto slash = r.content_range.rfind('/');
  if (slash == std::string::npos || r.content_range.substr(slash + 1) == "*") {
    throw io_error(
        str("cannot read '", url, "': no total size in Content-Range '", r.content_range, "'"));
  }
  out.total_size = std::stoull(r.content_range.substr(slash + 1));
  if (r.body.size() != last - first + 1 && first + r.body.size() != out.total_size) {
    throw io_error(str("cannot read '", url, "': asked for bytes ", first, "-", last, ", got ",
                       r.body.size()));
  }
  out.body = std::move(r.body);
  return out;
}

}  // namespace weft::data
