// Human-readable and JSON renderings of a plan and of a search. Stable JSON keys
// (documented in docs/plan.md). Pure; any thread; returns values the caller owns.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "plan/search.hpp"

namespace weft::plan {

std::string report_text(const RunSpec& run, const MemoryReport& mem, const TimeReport& time);
nlohmann::json report_json(const RunSpec& run, const MemoryReport& mem, const TimeReport& time);

std::string search_text(const RunSpec& base, const SearchResult& result, int top);
nlohmann::json search_json(const RunSpec& base, const SearchResult& result, int top);

// "1.23 GB", "4.56 TB" (decimal units, as the ZeRO paper uses).
std::string format_bytes(double bytes);
// "312.0 TFLOP/s", "14.90 GFLOP/s".
std::string format_flops(double flops);
// "$4.61M", "$12.3k".
std::string format_usd(double usd);
// "12.3 ms", "4.5 s", "3.2 h", "2.1 days", "355 years".
std::string format_seconds(double seconds);

}  // namespace weft::plan
