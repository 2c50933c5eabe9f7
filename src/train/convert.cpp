// Weight conversion between weft checkpoints, llm.c files and safetensors. See convert.hpp.
#include "train/convert.hpp"

#include <filesystem>

#include "core/error.hpp"
#include "model/llmc_checkpoint.hpp"
#include "model/param_layout.hpp"
#include "model/safetensors_gpt2.hpp"
#include "train/checkpoint.hpp"

namespace weft::train {
namespace fs = std::filesystem;
namespace {

// OUT/ckpt/step_0: one rank file with the parameters (no optimizer state).
std::string save_weft(const std::string& out, const LoadedWeights& w) {
  const model::ParamLayout layout(w.config);
  std::vector<CkptTensor> tensors;
  for (const model::ParamTensor& t : layout.tensors()) {
    CkptTensor ct;
    ct.name = "params/" + t.name;
    ct.shape.assign(t.shape.begin(), t.shape.end());
    ct.ranges.push_back({0, t.size});
    ct.sources.push_back(w.params.data() + t.offset);
    tensors.push_back(std::move(ct));
  }
  const model::GptConfig& c = w.config;
  nlohmann::json meta = {{"format", "weft-checkpoint"},
                         {"version", kCkptVersion},
                         {"stage", "import"},
                         {"step", 0},
                         {"source", w.source},
                         {"model",
                          {{"n_layer", c.n_layer},
                           {"n_head", c.n_head},
                           {"n_embd", c.n_embd},
                           {"vocab", c.vocab},
                           {"padded_vocab", c.padded_vocab},
                           {"max_seq", c.max_seq}}},
                         {"layout", {{"dp", 1}, {"tp", 1}, {"pp", 1}, {"zero", 0}}}};
  CkptSaveOptions o;
  o.run_dir = out;
  return ckpt_save(o, 0, std::move(meta), tensors, nullptr);
}

}  // namespace

LoadedWeights load_weights(const std::string& path) {
  LoadedWeights w;
  if (fs::is_directory(path)) {
    const Checkpoint ck = ckpt_open(ckpt_resolve(path));
    w.config = ckpt_model_config(ck);
    w.params = std::move(ckpt_assemble(ck, model::ParamLayout(w.config), false).params);
    w.source = str("weft checkpoint ", ck.dir, " (step ", ck.meta.value("step", 0), ")");
    return w;
  }
  if (!fs::exists(path)) throw input_error(str("'", path, "' does not exist"));
  model::LlmcModel m = model::llmc_load_model(path);
  w.config = m.config;
  w.params = std::move(m.params);
  w.source = str("llm.c file ", path);
  return w;
}

std::string convert_model(const ConvertOptions& o) {
  if (o.to != "llmc" && o.to != "safetensors" && o.to != "weft")
    throw config_error(str("--to '", o.to, "': expected llmc, safetensors or weft"));
  const fs::path out(o.output);
  const fs::path target = o.to == "llmc"          ? out
                          : o.to == "safetensors" ? out / "model.safetensors"
                                                  : out / "ckpt";
  if (fs::exists(target) && !o.overwrite)
    throw config_error(str(target.string(), " already exists: refusing to overwrite it"),
                       "choose another output or pass --overwrite");
  const LoadedWeights w = load_weights(o.input);
  std::string wrote;
  if (o.to == "llmc") {
    model::llmc_save_model(o.output, w.config, w.params.data());
    wrote = o.output;
  } else if (o.to == "safetensors") {
    model::safetensors_save_gpt2(o.output, w.config, w.params.data());
    wrote = str(target.string(), " + config.json");
  } else {
    wrote = save_weft(o.output, w);
  }
  return str("converted ", w.source, " (", w.config.describe(), ") → ", wrote);
}

}  // namespace weft::train
