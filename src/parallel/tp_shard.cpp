// Tensor-parallel slicing by the model's split table. See tp_shard.hpp.
#include "parallel/tp_shard.hpp"

#include <cstring>
#include <vector>

#include "core/aligned_buffer.hpp"
#include "core/error.hpp"
#include "model/param_layout.hpp"

namespace weft::parallel {
namespace {

// Walks the slices of rank `rank`: copy(full_offset, local_offset, floats) per run.
template <typename Copy>
void for_each_slice(const model::GptConfig& config, int tp, int rank, Copy&& copy) {
  const model::ParamLayout full(config), local(config, tp);
  for (int i = 0; i < model::kNumParamTensors; ++i) {
    const model::ParamTensor& ft = full.tensors()[static_cast<std::size_t>(i)];
    const model::ParamTensor& lt = local.tensors()[static_cast<std::size_t>(i)];
    if (ft.split_dim < 0) {
      copy(ft.offset, lt.offset, ft.size);
      continue;
    }
    // (outer, S, inner) around the split dimension; S = blocks · Sb; part = Sb / tp.
    std::size_t outer = 1, inner = 1;
    const std::size_t d = static_cast<std::size_t>(ft.split_dim);
    for (std::size_t k = 0; k < d; ++k) outer *= static_cast<std::size_t>(ft.shape[k]);
    for (std::size_t k = d + 1; k < ft.shape.size(); ++k) inner *= static_cast<std::size_t>(ft.shape[k]);
    const std::size_t S = static_cast<std::size_t>(ft.shape[d]);
    const std::size_t blocks = static_cast<std::size_t>(ft.split_blocks);
    const std::size_t Sb = S / blocks, part = Sb / static_cast<std::size_t>(tp);
    for (std::size_t o = 0; o < outer; ++o)
      for (std::size_t b = 0; b < blocks; ++b)
        copy(ft.offset + (o * S + b * Sb + static_cast<std::size_t>(rank) * part) * inner,
             lt.offset + (o * blocks * part + b * part) * inner, part * inner);
  }
}

}  // namespace

void tp_shard_params(const model::GptConfig& config, int tp, int rank, const float* full,
                     float* local) {
  for_each_slice(config, tp, rank, [&](std::size_t f, std::size_t l, std::size_t n) {
    std::memcpy(local + l, full + f, n * sizeof(float));
  });
}

void tp_unshard_params(const model::GptConfig& config, int tp, int rank, const float* local,
                       float* full) {
  for_each_slice(config, tp, rank, [&](std::size_t f, std::size_t l, std::size_t n) {
    std::memcpy(full + f, local + l, n * sizeof(float));
  });
}

void tp_gather_params(comm::Communicator& tp_comm, const model::GptConfig& config,
                      const float* local, float* full) {
  const int tp = tp_comm.size();
  const std::size_t n = model::ParamLayout(config, tp).total();
  AlignedBuffer<float> all(n * static_cast<std::size_t>(tp));  // (tp, n) every rank's shard
  tp_comm.all_gather(std::span<const float>(local, n), std::span<float>(all.data(), all.size()),
                     "tp: gather parameters");
  // Highest rank first, so rank 0's copy of the replicated tensors is the one kept.
  for (int r = tp - 1; r >= 0; --r)
    tp_unshard_params(config, tp, r, all.data() + static_cast<std::size_t>(r) * n, full);
}

void tp_init_weights(model::GptModel& model, std::uint64_t seed) {
  const model::GptConfig& config = model.config();
  std::vector<float> full(model::ParamLayout(config).total());
  model::GptModel::init_weights_full(config, seed, full.data());
  tp_shard_params(config, model.tp().size, model.tp().rank, full.data(), model.params());
}

}  // namespace weft::parallel
