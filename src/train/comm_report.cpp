// Measured vs analytic communication bytes per axis. See comm_report.hpp.
#include "train/comm_report.hpp"

#include <cstdio>

#include "core/error.hpp"

namespace weft::train {

bool CommCheck::matches() const {
  for (int a = 0; a < 3; ++a)
    if (formula[a] >= 0 && measured[a] != formula[a]) return false;
  return steps_match;
}

CommReport::CommReport(parallel::Grid& grid, const parallel::CommVolumeSetup& setup)
    : grid_(grid), setup_(setup), formula_(parallel::comm_volume_formula(setup)) {}

void CommReport::begin_step() { grid_.take_bytes(); }

void CommReport::end_step(int wte_late_rows) {
  const parallel::Grid::AxisBytes b = grid_.take_bytes();
  const double now[3] = {static_cast<double>(b.dp.total()), static_cast<double>(b.tp.total()),
                         static_cast<double>(b.pp.total())};
  setup_.wte_late_rows = wte_late_rows;
  formula_ = parallel::comm_volume_formula(setup_);
  const double f[3] = {formula_.dp, formula_.tp, formula_.pp};
  for (int a = 0; a < 3; ++a) {
    if (f[a] >= 0 && now[a] != f[a]) steps_match_ = false;
    last_[a] = now[a];
  }
}

nlohmann::json CommReport::json() const {
  nlohmann::json j = nlohmann::json::object();
  const parallel::GridShape& s = grid_.shape();
  if (s.dp > 1) j["dp"] = last_[0];
  if (s.tp > 1) j["tp"] = last_[1];
  if (s.pp > 1) j["pp"] = last_[2];
  return j;
}

std::vector<CommCheck> CommReport::finish(comm::Communicator& world, bool quiet) {
  constexpr int k = 8;
  const double mine[k] = {last_[0],    last_[1],    last_[2], formula_.dp, formula_.tp,
                          formula_.pp, steps_match_ ? 1.0 : 0.0, 0.0};
  std::vector<double> all(static_cast<std::size_t>(k) * world.size());
  world.all_gather(std::span<const double>(mine, k), std::span<double>(all), "comm bytes report");
  if (world.rank() != 0) return {};
  std::vector<CommCheck> out;
  for (int r = 0; r < world.size(); ++r) {
    const double* v = all.data() + static_cast<std::size_t>(k) * r;
    CommCheck c;
    c.rank = r;
    for (int a = 0; a < 3; ++a) {
      c.measured[a] = v[a];
      c.formula[a] = v[3 + a];
    }
    c.steps_match = v[6] != 0.0;
    out.push_back(c);
  }
  if (!quiet) {
    const parallel::GridShape& s = grid_.shape();
    const char* names[3] = {"dp", "tp", "pp"};
    const int sizes[3] = {s.dp, s.tp, s.pp};
    for (const CommCheck& c : out) {
      std::string line = str("comm   | rank ", c.rank, " bytes/step");
      for (int a = 0; a < 3; ++a) {
        if (sizes[a] == 1) continue;
        char buf[96];
        if (c.formula[a] >= 0)
          std::snprintf(buf, sizeof buf, " | %s %.0f (formula %.0f)", names[a], c.measured[a],
                        c.formula[a]);
        else
          std::snprintf(buf, sizeof buf, " | %s %.0f (no formula)", names[a], c.measured[a]);
        line += buf;
      }
      line += c.matches() ? " [matches]" : " [DIFFERS]";
      std::printf("%s\n", line.c_str());
    }
  }
  return out;
}

std::unique_ptr<CommReport> make_comm_report(parallel::Grid& grid, const model::GptConfig& full,
                                             int stage_layers, int B, int T, int micro, int zero) {
  parallel::CommVolumeSetup s;
  s.config = full;
  s.shape = grid.shape();
  s.coord = grid.coord();
  s.stage_layers = stage_layers;
  s.B = B;
  s.T = T;
  s.micro = micro;
  s.zero = zero;
  return std::make_unique<CommReport>(grid, s);
}

}  // namespace weft::train
