// Tokenizer benchmark: GPT-2 encode MB/s on the KJV Bible with 1 thread and with
// every core (text split at safe points, one part per thread), BPE training time
// (KJV → 8k vocab), and tiktoken (npm) on the same text as the baseline when node
// and tools/node_modules/tiktoken exist. Checks ids against the golden file first.
//   bench_tokenizer [--input FILE] [--repeats N]   (default input: bible -f Gen1:1-Rev22:21)
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/timer.hpp"
#include "data/tokenizer.hpp"

namespace {

namespace fs = std::filesystem;
using weft::data::Tokenizer;

std::string capture(const std::string& cmd) {
  std::string out;
  if (FILE* f = ::popen(cmd.c_str(), "r")) {
    char buf[1 << 16];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    ::pclose(f);
  }
  return out;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The source tree: searched upwards from the executable (build/<preset>/bench/).
fs::path source_root() {
  std::error_code ec;
  for (fs::path d = fs::read_symlink("/proc/self/exe", ec).parent_path();
       !ec && d != d.parent_path(); d = d.parent_path())
    if (fs::exists(d / "tools/bench_tiktoken.mjs")) return d;
  return {};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Encodes `parts` on `n_threads` fresh threads (fresh = empty piece caches: a cold
// start, as a new worker process would have). Returns seconds; ids in part order.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Timing {
  double wall_s;  // elapsed
  double cpu_s;   // CPU time summed over the threads (robust on a shared machine)
};

Timing encode_parallel(const Tokenizer& tok, const std::vector<std::string_view>& parts,
                       int n_threads, std::vector<uint32_t>* ids) {
  std::vector<std::vector<uint32_t>> out(parts.size());
  std::vector<double> cpu(static_cast<std::size_t>(n_threads));
  weft::Stopwatch watch;
  std::vector<std::thread> threads;
  for (int t = 0; t < n_threads; ++t)
    threads.emplace_back([&, t] {
      const double c0 = thread_cpu_seconds();
      for (std::size_t p = static_cast<std::size_t>(t); p < parts.size();
           p += static_cast<std::size_t>(n_threads))
        out[p] = tok.encode(parts[p]);
      cpu[static_cast<std::size_t>(t)] = thread_cpu_seconds() - c0;
    });
  for (auto& th : threads) th.join();
  const Timing timing{watch.seconds(), 0.0};
  double cpu_sum = 0;
  for (double c : cpu) cpu_sum += c;
  if (ids) {
    ids->clear();
    for (const auto& o : out) ids->insert(ids->end(), o.begin(), o.end());
  }
  return {timing.wall_s, cpu_sum};
}

}  // namespace

int main(int argc, char** argv) {
  std::string input;
  int repeats = 5;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--input") && i + 1 < argc)
      input = argv[++i];
    else if (!std::strcmp(argv[i], "--repeats") && i + 1 < argc)
      repeats = std::max(1, std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "usage: bench_tokenizer [--input FILE] [--repeats N]\n");
      return 2;
    }
  }
  const fs::path root = source_root();
  std::string text =
      input.empty() ? capture("bible -f Gen1:1-Rev22:21 2>/dev/null") : read_all(input);
  if (text.empty()) {
    std::fprintf(stderr, "no input text: install bible-kjv or pass --input FILE\n");
    return 1;
  }
  const double mb = static_cast<double>(text.size()) / 1e6;
  const Tokenizer tok = weft::data::tokenizer_load_spec("gpt2");

  // 1. Check: ids equal the tiktoken golden file (KJV) and decode gives the text back.
  std::vector<uint32_t> ids = tok.encode(text);
  if (tok.decode(ids) != text) {
    std::fprintf(stderr, "FAIL: decode(encode(text)) != text\n");
    return 1;
  }
  const fs::path golden = root / "tests/fixtures/tokenizer/golden/kjv.u16";
  if (input.empty() && fs::exists(golden)) {
    const std::string raw = read_all(golden);
    bool same = raw.size() == ids.size() * 2;
    for (std::size_t i = 0; same && i < ids.size(); ++i)
      same = (uint32_t{static_cast<uint8_t>(raw[2 * i])} |
              (uint32_t{static_cast<uint8_t>(raw[2 * i + 1])} << 8)) == ids[i];
    if (!same) {
      std::fprintf(stderr, "FAIL: ids differ from tiktoken's golden %s\n", golden.c_str());
      return 1;
    }
    std::printf("check: %zu ids equal tiktoken's golden ids; round trip ok\n", ids.size());
  } else {
    std::printf("check: round trip ok (no golden ids for this input)\n");
  }

  // 2. Encode speed, 1..all threads. Each run uses fresh threads (cold caches).
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::printf("\n%-28s %8s %10s %10s %18s\n", "encode (GPT-2, cold cache)", "threads", "MB/s",
              "speedup", "MB per CPU-second");
  double one = 0, one_cpu = 0;
  for (int n = 1; n <= hw; n = n < hw && n * 2 > hw ? hw : n * 2) {
    const auto parts = weft::data::tokenizer_split_text(
        text, std::max<std::size_t>(text.size() / (n * 8), 1 << 16));
    std::vector<double> secs, cpu_secs;
    std::vector<uint32_t> got;
    for (int r = 0; r < repeats; ++r) {
      const Timing t = encode_parallel(tok, parts, n, &got);
      secs.push_back(t.wall_s);
      cpu_secs.push_back(t.cpu_s);
    }
    if (got != ids) {
      std::fprintf(stderr, "FAIL: %d-thread ids differ from 1-thread ids\n", n);
      return 1;
    }
    const double mbps = mb / median(secs);
    const double cpu_mbps = mb / median(cpu_secs);
    if (n == 1) {
      one = mbps;
      one_cpu = cpu_mbps;
    }
    std::printf("%-28s %8d %10.2f %9.2fx %18.2f\n", "weft", n, mbps, mbps / one, cpu_mbps);
    if (n == hw) break;
  }

  // 3. Baseline in the same run: tiktoken (npm, wasm), single-threaded.
  const bool have_node = !capture("command -v node 2>/dev/null").empty();
  if (have_node && !root.empty() && fs::exists(root / "tools/node_modules/tiktoken")) {
    const fs::path tmp = fs::temp_directory_path() / "weft_bench_tokenizer_input.txt";
    std::ofstream(tmp, std::ios::binary) << text;
    const std::string line = capture("node " + (root / "tools/bench_tiktoken.mjs").string() + " " +
                                     tmp.string() + " " + std::to_string(repeats));
    fs::remove(tmp);
    double tk = 0, tk_cpu = 0;
    std::size_t tk_tokens = 0;
    if (std::sscanf(line.c_str(), "tiktoken_mbps %lf cpu_mbps %lf tokens %zu", &tk, &tk_cpu,
                    &tk_tokens) == 3 &&
        tk > 0) {
      std::printf("%-28s %8d %10.2f %10s %18.2f\n", "tiktoken (npm, wasm)", 1, tk, "", tk_cpu);
      std::printf("weft 1 thread / tiktoken: %.1fx wall, %.1fx per CPU-second (token count %s)\n",
                  one / tk, one_cpu / tk_cpu, tk_tokens == ids.size() ? "equal" : "DIFFERS");
    } else {
      std::printf("tiktoken baseline failed: %s\n", line.c_str());
    }
  } else {
    std::printf(
        "tiktoken baseline skipped: needs node and `cd tools && npm install --no-save tiktoken`\n");
  }

  // 4. Training: the text → 8192-token vocabulary on every core.
  std::vector<std::string_view> texts = {text};
  weft::Stopwatch watch;
  const Tokenizer trained = weft::data::tokenizer_train(texts, {8192, 0, false});
  const double train_s = watch.seconds();
  if (trained.decode(trained.encode(text)) != text) {
    std::fprintf(stderr, "FAIL: trained tokenizer does not round-trip\n");
    return 1;
  }
  std::printf("\ntrain %.2f MB -> vocab %u: %.2f s (%d threads)\n", mb, trained.vocab_size(),
              train_s, hw);
  return 0;
}
