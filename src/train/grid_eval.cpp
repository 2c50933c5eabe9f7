// Validation and greedy sampling on the dp × tp × pp grid. See grid_eval.hpp.
#include "train/grid_eval.hpp"

#include <algorithm>
#include <span>
#include <string>

#include "core/error.hpp"
#include "train/pipeline_setup.hpp"

namespace weft::train {
namespace {

constexpr int kTagEval = 5;  // stage s -> s+1: the residual of a validation/sample forward

// One forward through the pipeline; the last stage's mean loss, 0 elsewhere. `buf`
// (B,T,C) receives the previous stage's residual. forward_train_stage's loss is
// forward()'s (the classifier computes it before it turns the logits into their
// gradient, which nothing reads here: the next step's forward overwrites it).
float stage_chain_forward(model::GptModel& m, const std::int32_t* inp, const std::int32_t* targets,
                          int B, int T, comm::Communicator& pp, AlignedBuffer<float>& buf,
                          const std::string& what) {
  const std::size_t n = static_cast<std::size_t>(B) * T * m.config().n_embd;
  const float* in = nullptr;
  if (!m.first_stage()) {
    pp.recv(std::span<float>(buf.data(), n), pp.rank() - 1, kTagEval, what);
    in = buf.data();
  }
  const float loss =
      m.forward_train_stage(m.first_stage() ? inp : nullptr, in, targets, nullptr, B, T, 1.0f);
  if (!m.last_stage()) pp.send(std::span<const float>(m.stage_output(), n), pp.rank() + 1, kTagEval, what);
  return loss;
}

}  // namespace

double grid_evaluate(model::GptModel& m, data::ShardReaderSimple& reader, int batches, int B, int T,
                     int row0, std::int32_t* x, std::int32_t* y, parallel::Grid& grid) {
  reader.reset();
  comm::Communicator& pp = grid.pp();
  AlignedBuffer<float> buf(m.first_stage() ? 0 : static_cast<std::size_t>(B) * T * m.config().n_embd);
  m.use_slot(0);  // after the step: every slot's activations are free
  double sum = 0.0;
  const std::size_t off = static_cast<std::size_t>(row0) * T;
  for (int i = 0; i < batches; ++i) {
    reader.next(x, y);
    sum += stage_chain_forward(m, x + off, y + off, B, T, pp, buf, str("validation batch ", i + 1));
  }
  // The last stage's tp rank 0 of every dp rank holds one mean per batch.
  if (!m.last_stage() || grid.coord().tp != 0) sum = 0.0;
  grid.world().all_reduce(std::span<double>(&sum, 1), comm::ReduceOp::kSum, "validation");
  return sum / grid.shape().dp / batches;
}

std::vector<int> grid_sample_greedy(model::GptModel& m, int prompt, int n, parallel::Grid& grid) {
  WEFT_CHECK(grid.shape().pp == 1, "greedy samples under --pp are refused at start");
  const model::GptConfig& c = m.config();
  comm::Communicator& tp = grid.tp();
  const int window = m.max_seq();
  std::vector<std::int32_t> tokens{prompt};
  const int cols = c.padded_vocab / tp.size(), col0 = tp.rank() * cols;
  for (int i = 0; i < n; ++i) {
    const int t0 = std::max(0, static_cast<int>(tokens.size()) - window);
    const int T = static_cast<int>(tokens.size()) - t0;
    m.forward(tokens.data() + t0, nullptr, nullptr, 1, T);
    double best[2] = {0.0, 0.0};  // (logit, global column) of this tp rank's best
    {
      const float* row = m.logits() + static_cast<std::size_t>(T - 1) * cols;
      int b = -1;
      for (int v = 0; v < cols && col0 + v < c.vocab; ++v)
        if (b < 0 || row[v] > row[b]) b = v;
      best[0] = b < 0 ? -1e300 : row[b];
      best[1] = col0 + std::max(b, 0);
      std::vector<double> all(2 * static_cast<std::size_t>(tp.size()));
      tp.all_gather(std::span<const double>(best, 2), std::span<double>(all), "sample argmax");
      // Shards in column order: the first strict maximum is one rank's argmax.
      best[0] = all[0];
      best[1] = all[1];
      for (int r = 1; r < tp.size(); ++r)
        if (all[2 * r] > best[0]) {
          best[0] = all[2 * r];
          best[1] = all[2 * r + 1];
        }
    }
    tokens.push_back(static_cast<std::int32_t>(best[1]));
  }
  return {tokens.begin() + 1, tokens.end()};
}

// Greedy continuation of `prompt` by n tokens, one full forward per token (no KV
// cache: a few tokens only).
std::vector<int> sample_greedy(model::GptModel& m, int prompt, int n) {
  const model::GptConfig& c = m.config();
  std::vector<std::int32_t> tokens{prompt};
  const int window = m.max_seq();
  for (int i = 0; i < n; ++i) {
    const int t0 = std::max(0, static_cast<int>(tokens.size()) - window);
    const int T = static_cast<int>(tokens.size()) - t0;
    m.forward(tokens.data() + t0, nullptr, nullptr, 1, T);
    const float* row = m.logits() + static_cast<std::size_t>(T - 1) * c.padded_vocab;
    int best = 0;
    for (int v = 1; v < c.vocab; ++v)
      if (row[v] > row[best]) best = v;
    tokens.push_back(best);
  }
  return {tokens.begin() + 1, tokens.end()};
}

std::vector<int> pipeline_sample_greedy(model::GptModel& m, const model::GptConfig& full,
                                        RankLayout& layout, int prompt, int n) {
  parallel::Grid& grid = layout.grid();
  std::vector<float> tp_full;  // this stage's whole (tp = 1) parameters
  if (grid.shape().tp > 1) layout.gather_full(m, tp_full);
  std::vector<float> whole;  // the whole model, on world rank 0
  if (grid.coord().dp == 0 && grid.coord().tp == 0)
    whole = pipeline_gather_params(tp_full.empty() ? m.params() : tp_full.data(), m.stage(), full,
                                   grid.pp());
  std::vector<std::int64_t> tokens(static_cast<std::size_t>(n));
  if (grid.world().rank() == 0) {
    model::GptModel inference(full, 1, m.max_seq(), /*training=*/false);
    inference.set_precision(m.precision());
    std::copy(whole.begin(), whole.end(), inference.params());
    const std::vector<int> t = sample_greedy(inference, prompt, n);
    std::copy(t.begin(), t.end(), tokens.begin());
  }
  grid.world().broadcast(std::span<std::int64_t>(tokens), 0, "sample tokens");
  return {tokens.begin(), tokens.end()};
}

}  // namespace weft::train
