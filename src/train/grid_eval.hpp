// Validation loss and greedy samples of `weft train` under tensor and pipeline
// parallelism (docs/parallel.md "Validation and samples on the grid"). Pipeline:
// each validation batch flows forward through the stages (blocking send/recv of
// the (B,T,C) residual on the pp communicator); the last stage computes the loss,
// which is summed over the world (tp rank 0 of each last-stage dp rank counts) and
// averaged over dp, as one rank's evaluate() averages over dp ranks. Sampling under
// tp (pp = 1): the argmax over the vocabulary shards (all-gather of each shard's
// best); under pp the whole model is gathered to rank 0, which samples and
// broadcasts the tokens. Collective over the world;
// the communicators and model are the caller's. The rank's training thread calls it.
#pragma once

#include <cstdint>
#include <vector>

#include "core/aligned_buffer.hpp"
#include "data/shard_reader_simple.hpp"
#include "model/gpt_model.hpp"
#include "parallel/grid.hpp"
#include "train/rank_layout.hpp"

namespace weft::train {

// Mean validation loss over `batches` batches of `reader` (rewound first); x, y hold
// the global batch, this rank evaluates rows [row0, row0 + B).
double grid_evaluate(model::GptModel& m, data::ShardReaderSimple& reader, int batches, int B, int T,
                     int row0, std::int32_t* x, std::int32_t* y, parallel::Grid& grid);

// Greedy continuation of `prompt` by n tokens (one full forward per token, window
// max_seq); the same tokens on every rank. Same result as one rank's greedy sample.
// pp must be 1 (pipeline: pipeline_sample_greedy).
std::vector<int> grid_sample_greedy(model::GptModel& m, int prompt, int n, parallel::Grid& grid);

// Under pp: the stages' (tp-gathered) parameters are gathered to world rank 0, which
// samples with a whole inference model (activations for 1 × m.max_seq()) and
// broadcasts the tokens. Collective over the world. full: the whole model's config.
std::vector<int> pipeline_sample_greedy(model::GptModel& m, const model::GptConfig& full,
                                        RankLayout& layout, int prompt, int n);

// One whole model's greedy continuation (single rank; uses m's activations).
std::vector<int> sample_greedy(model::GptModel& m, int prompt, int n);

}  // namespace weft::train
