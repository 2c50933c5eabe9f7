// GPT-2 safetensors + config.json export. See safetensors_gpt2.hpp.
#include "model/safetensors_gpt2.hpp"

#include <cstdint>
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "model/param_layout.hpp"

namespace weft::model {
namespace {

struct HfTensor {
  std::string name;
  std::vector<long> shape;  // HF shape
  std::vector<float> data;  // row-major in HF shape
};

// rows × cols block at src (row-major) → its transpose (cols × rows).
std::vector<float> transposed(const float* src, long rows, long cols) {
  std::vector<float> out(static_cast<std::size_t>(rows * cols));
  for (long r = 0; r < rows; ++r)
    for (long c = 0; c < cols; ++c) out[static_cast<std::size_t>(c * rows + r)] = src[r * cols + c];
  return out;
}

std::vector<float> copy(const float* src, long n) {
  return {src, src + n};
}

std::vector<HfTensor> hf_tensors(const GptConfig& cfg, const float* params) {
  const ParamLayout layout(cfg);
  const auto p = ParamViews<const float>::make(layout, params);
  const long C = cfg.n_embd, L = cfg.n_layer, V = cfg.vocab, T = cfg.max_seq;
  std::vector<HfTensor> out;
  out.push_back({"transformer.wte.weight", {V, C}, copy(p.wte, V * C)});
  out.push_back({"transformer.wpe.weight", {T, C}, copy(p.wpe, T * C)});
  for (long l = 0; l < L; ++l) {
    const std::string h = "transformer.h." + std::to_string(l) + ".";
    out.push_back({h + "ln_1.weight", {C}, copy(p.ln1w + l * C, C)});
    out.push_back({h + "ln_1.bias", {C}, copy(p.ln1b + l * C, C)});
    out.push_back(
        {h + "attn.c_attn.weight", {C, 3 * C}, transposed(p.qkvw + l * 3 * C * C, 3 * C, C)});
    out.push_back({h + "attn.c_attn.bias", {3 * C}, copy(p.qkvb + l * 3 * C, 3 * C)});
    out.push_back({h + "attn.c_proj.weight", {C, C}, transposed(p.attprojw + l * C * C, C, C)});
    out.push_back({h + "attn.c_proj.bias", {C}, copy(p.attprojb + l * C, C)});
    out.push_back({h + "ln_2.weight", {C}, copy(p.ln2w + l * C, C)});
    out.push_back({h + "ln_2.bias", {C}, copy(p.ln2b + l * C, C)});
    out.push_back({h + "mlp.c_fc.weight", {C, 4 * C}, transposed(p.fcw + l * 4 * C * C, 4 * C, C)});
    out.push_back({h + "mlp.c_fc.bias", {4 * C}, copy(p.fcb + l * 4 * C, 4 * C)});
    out.push_back(
        {h + "mlp.c_proj.weight", {4 * C, C}, transposed(p.fcprojw + l * 4 * C * C, C, 4 * C)});
    out.push_back({h + "mlp.c_proj.bias", {C}, copy(p.fcprojb + l * C, C)});
  }
  out.push_back({"transformer.ln_f.weight", {C}, copy(p.lnfw, C)});
  out.push_back({"transformer.ln_f.bias", {C}, copy(p.lnfb, C)});
  return out;
}

}  // namespace

void safetensors_save_gpt2(const std::string& out_dir, const GptConfig& cfg, const float* params) {
  cfg.validate("safetensors export");
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) throw io_error(str("cannot create '", out_dir, "': ", ec.message()));
  const std::vector<HfTensor> tensors = hf_tensors(cfg, params);
  // Header: {name: {dtype, shape, data_offsets: [begin, end)}} relative to the data
  // block, padded with spaces to a multiple of 8 bytes.
  nlohmann::json header = {{"__metadata__", {{"format", "pt"}, {"producer", "weft"}}}};
  std::uint64_t off = 0;
  for (const HfTensor& t : tensors) {
    const std::uint64_t bytes = t.data.size() * sizeof(float);
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {off, off + bytes}}};
    off += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  const std::uint64_t len = text.size();
  AtomicFileWriter w((std::filesystem::path(out_dir) / "model.safetensors").string());
  w.write(&len, sizeof(len));
  w.write(text.data(), text.size());
  for (const HfTensor& t : tensors) w.write(t.data.data(), t.data.size() * sizeof(float));
  w.commit();
  const nlohmann::json config = {{"architectures", {"GPT2LMHeadModel"}},
                                 {"model_type", "gpt2"},
                                 {"vocab_size", cfg.vocab},
                                 {"n_positions", cfg.max_seq},
                                 {"n_ctx", cfg.max_seq},
                                 {"n_embd", cfg.n_embd},
                                 {"n_layer", cfg.n_layer},
                                 {"n_head", cfg.n_head},
                                 {"n_inner", nullptr},
                                 {"activation_function", "gelu_new"},  // GELU, tanh approximation
                                 {"layer_norm_epsilon", 1e-5},
                                 {"resid_pdrop", 0.0},
                                 {"embd_pdrop", 0.0},
                                 {"attn_pdrop", 0.0},
                                 {"initializer_range", 0.02},
                                 {"tie_word_embeddings", true},
                                 {"bos_token_id", cfg.vocab - 1},
                                 {"eos_token_id", cfg.vocab - 1},
                                 {"torch_dtype", "float32"}};
  const std::string ctext = config.dump(2) + "\n";
  file_write_atomic((std::filesystem::path(out_dir) / "config.json").string(), ctext.data(),
                    ctext.size());
}

}  // namespace weft::model
