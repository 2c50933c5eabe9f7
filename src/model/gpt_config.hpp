// GPT-2 model shape: layers, heads, width, vocabulary (real and padded) and the
// longest sequence, plus the depth presets (`d12` = GPT-2 124M). A plain value
// type; any thread. validate() turns an impossible shape into a weft::Error.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace weft::model {

struct GptConfig {
  int n_layer = 12;          // L
  int n_head = 12;           // NH
  int n_embd = 768;          // C
  int vocab = 50257;         // V: real vocabulary size
  int padded_vocab = 50304;  // Vp: V rounded up to a multiple of 128 (faster matmuls)
  int max_seq = 1024;        // maxT: rows of the position embedding

  int head_size() const { return n_embd / n_head; }  // hs
  // Number of parameters (all tensors, padded vocabulary rows included).
  std::size_t num_params() const;
  // Throws weft::Error (kind config) naming the first field that is wrong;
  // `source` says where the config came from (a file name, "--model d4").
  void validate(std::string_view source = "model config") const;
  std::string describe() const;  // "L=12 NH=12 C=768 V=50257 Vp=50304 maxT=1024"
};

// Rounds a vocabulary size up to a multiple of 128.
int pad_vocab(int vocab);

// A config from a preset name: "d<depth>" with depth >= 1. Depths 12/24/36/48 are
// GPT-2 small/medium/large/XL (768/1024/1280/1600 wide, 12/16/20/25 heads, head
// size 64); any other depth uses nanochat's aspect ratio n_embd = 64·depth and
// GPT-2's head size 64 (heads = depth). Throws weft::Error for unknown names.
GptConfig gpt_config_preset(std::string_view name, int vocab = 50257, int max_seq = 1024);

}  // namespace weft::model
