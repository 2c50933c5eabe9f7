// Tensor-parallel hooks: all-reduces over the tp group. See tensor_parallel.hpp.
#include "parallel/tensor_parallel.hpp"

#include <span>

#include "core/error.hpp"
#include "kernels/cpu/grad_norm.hpp"
#include "model/param_layout.hpp"

namespace weft::parallel {

TensorParallel::TensorParallel(comm::Communicator& tp, model::GptModel& model)
    : comm_(tp), model_(model) {
  WEFT_CHECK(tp.size() == model.tp().size && tp.rank() == model.tp().rank, "tp communicator (rank ",
             tp.rank(), " of ", tp.size(), ") does not match the model's shard (rank ",
             model.tp().rank, " of ", model.tp().size, ")");
}

void TensorParallel::sum_row_parallel_output(float* out, std::size_t n) {
  bytes_ += n * sizeof(float);
  comm_.all_reduce(std::span<float>(out, n), comm::ReduceOp::kSum, "tp: row-parallel output");
}

void TensorParallel::sum_column_parallel_input_grad(float* dinp, std::size_t n) {
  bytes_ += n * sizeof(float);
  comm_.all_reduce(std::span<float>(dinp, n), comm::ReduceOp::kSum, "tp: column-parallel input grad");
}

void TensorParallel::sum_vocab_parallel_embedding(float* encoded, std::size_t n) {
  bytes_ += n * sizeof(float);
  comm_.all_reduce(std::span<float>(encoded, n), comm::ReduceOp::kSum, "tp: vocab-parallel embedding");
}

void TensorParallel::reduce_vocab_parallel_stats(double* stats, std::size_t n, bool max) {
  bytes_ += n * sizeof(double);
  comm_.all_reduce(std::span<double>(stats, n), max ? comm::ReduceOp::kMax : comm::ReduceOp::kSum,
                   "tp: vocab-parallel cross-entropy");
}

double TensorParallel::grad_sum_squares() {
  const model::ParamLayout& layout = model_.layout();
  double sums[2] = {0.0, 0.0};  // split tensors | replicated tensors
  for (const model::ParamTensor& t : layout.tensors())
    sums[t.tp_split == model::TpSplit::kReplicated ? 1 : 0] +=
        cpu::grad_sum_squares(model_.grads() + t.offset, t.size);
  // Replicated gradients are identical on every tp rank: only rank 0 contributes them.
  double total = sums[0] + (comm_.rank() == 0 ? sums[1] : 0.0);
  comm_.all_reduce(std::span<double>(&total, 1), comm::ReduceOp::kSum, "tp: grad norm");
  return total;
}

std::uint64_t TensorParallel::take_bytes() {
  const std::uint64_t b = bytes_;
  bytes_ = 0;
  return b;
}

}  // namespace weft::parallel
