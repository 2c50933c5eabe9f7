// Planning of `weft data prepare`: which documents the inputs hold and how they are
// cut into work units (byte ranges a worker tokenizes on its own), each assigned to
// the train or val split. The plan depends only on the inputs and settings, never
// on the number of workers, so every worker count writes identical shards.
// Values owned by the caller; build on one thread, then read from any process.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace weft::data {

enum class SourceKind : std::uint8_t {
  kText,   // a plain text file: the whole file is one document
  kJsonl,  // JSON Lines: each non-blank line is one document (its text field)
  kMemory  // text held in memory (built corpora such as the KJV): one document
};

struct Source {
  std::string name;  // path, or "kjv:Genesis" for built corpora (used in messages)
  SourceKind kind = SourceKind::kText;
  std::shared_ptr<const std::string> text;  // kMemory only
  std::uint64_t size = 0;                   // bytes
  std::int64_t mtime_ns = 0;                // files: modification time (for the plan hash)
};

enum class Split : std::uint8_t { kTrain = 0, kVal = 1 };
inline const char* split_name(Split s) {
  return s == Split::kTrain ? "train" : "val";
}

struct Unit {
  std::uint32_t source = 0;
  std::uint64_t begin = 0, end = 0;  // byte range [begin, end) of the source
  Split split = Split::kTrain;
  // Emit <|endoftext|> before the unit's text: it starts a document, or it follows a
  // unit of the other split (so the split's stream never glues two pieces together).
  // JSONL units ignore this: every line gets its own <|endoftext|>.
  bool lead_eot = false;
};

struct PlanSettings {
  std::string jsonl_field = "text";
  std::uint64_t unit_bytes = 0;  // 0: chosen from the total size (64 KiB .. 8 MiB)
  double val_fraction = 0.0;
};

struct Plan {
  std::vector<Source> sources;
  std::vector<Unit> units;
  PlanSettings settings;
  std::uint64_t total_bytes = 0;
};

// Expands files and directories (recursive, sorted, hidden entries skipped) into
// sources. "*.jsonl" files are JSON Lines; everything else is plain text. Empty
// files and files that look binary are errors naming the file.
std::vector<Source> etl_sources_from_paths(const std::vector<std::string>& paths);

// The King James Bible from the Debian `bible-kjv` package (`bible` program), one
// source per book (66 documents): verses one per line without their references,
// a blank line between chapters.
std::vector<Source> etl_sources_kjv();

// Cuts sources into units and assigns splits. Text is cut only where GPT-2-style
// pre-tokenization has a token boundary anyway (before a '\n' that follows a
// non-space character), so tokenizing units separately gives the same ids as
// tokenizing whole documents. JSONL is cut at line ends.
Plan etl_make_plan(std::vector<Source> sources, const PlanSettings& settings);

// The bytes of a unit (reads the file range, or copies from memory).
std::string etl_read_unit(const Plan& plan, const Unit& unit);

// Throws kInput naming `name` if `bytes` look binary: a NUL byte, or more than 1%
// of the bytes in invalid UTF-8 sequences. `offset` locates `bytes` in the file.
void etl_check_text(std::string_view bytes, const std::string& name, std::uint64_t offset);

}  // namespace weft::data
