// GPT config presets and validation. See gpt_config.hpp.
#include "model/gpt_config.hpp"

#include <charconv>

#include "core/error.hpp"
#include "model/param_layout.hpp"

namespace weft::model {

int pad_vocab(int vocab) { return (vocab + 127) / 128 * 128; }

std::size_t GptConfig::num_params() const { return ParamLayout(*this).total(); }

void GptConfig::validate(std::string_view source) const {
  auto fail = [&](std::string_view field, auto value, std::string_view why) {
    throw config_error(str(source, ": ", field, " = ", value, " ", why));
  };
  if (n_layer < 1) fail("n_layer", n_layer, "must be at least 1");
  if (n_head < 1) fail("n_head", n_head, "must be at least 1");
  if (n_embd < 1) fail("n_embd", n_embd, "must be at least 1");
  if (n_embd % n_head != 0)
    fail("n_embd", n_embd, str("is not divisible by n_head = ", n_head));
  if (vocab < 1) fail("vocab", vocab, "must be at least 1");
  if (padded_vocab < vocab) fail("padded_vocab", padded_vocab, str("is smaller than vocab = ", vocab));
  if (max_seq < 1) fail("max_seq", max_seq, "must be at least 1");
  // Keep every count well inside int (kernels index with int for B·T and C).
  if (static_cast<long long>(padded_vocab) * n_embd > (1LL << 31) - 1)
    fail("padded_vocab", padded_vocab, "times n_embd overflows 32-bit indexing");
  if (n_embd > (1 << 20)) fail("n_embd", n_embd, "is too large");
}

std::string GptConfig::describe() const {
  return str("L=", n_layer, " NH=", n_head, " C=", n_embd, " V=", vocab, " Vp=", padded_vocab,
             " maxT=", max_seq);
}

GptConfig gpt_config_preset(std::string_view name, int vocab, int max_seq) {
  int depth = 0;
  if (name.size() < 2 || name[0] != 'd' ||
      std::from_chars(name.data() + 1, name.data() + name.size(), depth).ptr !=
          name.data() + name.size() ||
      depth < 1 || depth > 256) {
    throw config_error(str("unknown model preset '", name, "'"),
                       "use d<depth>, e.g. d4, d12 (GPT-2 124M), d24, d36, d48 (GPT-2 1.5B)");
  }
  GptConfig c;
  c.n_layer = depth;
  switch (depth) {
    case 12: c.n_embd = 768; c.n_head = 12; break;    // GPT-2 small (124M)
    case 24: c.n_embd = 1024; c.n_head = 16; break;   // GPT-2 medium (350M)
    case 36: c.n_embd = 1280; c.n_head = 20; break;   // GPT-2 large (774M)
    case 48: c.n_embd = 1600; c.n_head = 25; break;   // GPT-2 XL (1.5B)
    default: c.n_embd = 64 * depth; c.n_head = depth; break;  // head size 64
  }
  c.vocab = vocab;
  c.padded_vocab = pad_vocab(vocab);
  c.max_seq = max_seq;
  c.validate(str("--model ", name));
  return c;
}

}  // namespace weft::model
