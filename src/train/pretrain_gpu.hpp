// `weft train --device cuda`: pretraining on one CUDA device (model/gpt_model_cuda.hpp),
// the same step lines, metrics.jsonl and model.bin as the CPU loop in pretrain.cpp.
// In a build without CUDA, or on a machine without a GPU, it throws weft::Error (kind
// config) saying so. Main thread only.
#pragma once

#include "train/pretrain.hpp"

namespace weft::train {

PretrainResult pretrain_gpu(const PretrainOptions& options);

}  // namespace weft::train
