// One unit → tokens. See etl_tokenize.hpp.
#include "data/etl_tokenize.hpp"

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace weft::data {
namespace {

void encode_jsonl(std::string_view bytes, const Source& source, std::uint64_t base,
                  const std::string& field, const TokenEncoder& encoder,
                  std::vector<std::uint32_t>& ids) {
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    std::size_t eol = bytes.find('\n', pos);
    if (eol == std::string_view::npos) eol = bytes.size();
    std::string_view line = bytes.substr(pos, eol - pos);
    const std::uint64_t line_offset = base + pos;
    pos = eol + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw input_error(str("input '", source.name, "': line at byte ", line_offset,
                            " is not valid JSON: ", e.what()),
                        "JSONL needs one JSON object per line");
    }
    const auto it = doc.is_object() ? doc.find(field) : doc.end();
    if (!doc.is_object() || it == doc.end() || !it->is_string()) {
      throw input_error(str("input '", source.name, "': line at byte ", line_offset,
                            " has no string field '", field, "'"),
                        "choose the field with --jsonl-field");
    }
    ids.push_back(encoder.eot_id());
    encoder.encode_append(it->get_ref<const std::string&>(), ids);
  }
}

}  // namespace

std::vector<std::uint16_t> etl_tokenize_unit(const Plan& plan, const Unit& unit,
                                             const TokenEncoder& encoder) {
  const Source& source = plan.sources[unit.source];
  const std::string bytes = etl_read_unit(plan, unit);
  etl_check_text(bytes, source.name, unit.begin);
  std::vector<std::uint32_t> ids;
  ids.reserve(bytes.size() / 3 + 16);
  if (source.kind == SourceKind::kJsonl) {
    encode_jsonl(bytes, source, unit.begin, plan.settings.jsonl_field, encoder, ids);
  } else {
    if (unit.lead_eot) ids.push_back(encoder.eot_id());
    encoder.encode_append(bytes, ids);
  }
  std::vector<std::uint16_t> out(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    WEFT_CHECK(ids[i] < 65536, "token id ", ids[i], " does not fit uint16");
    out[i] = static_cast<std::uint16_t>(ids[i]);
  }
  return out;
}

}  // namespace weft::data
