// Engines for `weft serve` (see serve_model.hpp).
#include "serve/serve_model.hpp"

#include "core/error.hpp"
#include "model/gpt_model.hpp"

namespace weft::serve {

model::GptConfig serve_random_config(int vocab, int context) {
  model::GptConfig c;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 64;
  c.vocab = vocab;
  c.padded_vocab = model::pad_vocab(vocab);
  c.max_seq = context;
  c.validate("--model random");
  return c;
}

std::unique_ptr<infer::Engine> serve_load_engine(const ModelSpec& spec,
                                                 infer::EngineOptions options) {
  if (spec.path == "random") {
    if (spec.context < 2) throw input_error("--model random needs --context >= 2");
    const model::GptConfig config = serve_random_config(spec.vocab, spec.context);
    model::GptModel m(config, 1, 1, /*training=*/false);
    m.init_weights(spec.seed);
    return std::make_unique<infer::Engine>(config, m.params(), options);
  }
  if (spec.context > 0) options.max_seq = spec.context;
  return infer::Engine::from_llmc(spec.path, options);
}

}  // namespace weft::serve
