// Composes several ModelHooks into one, so techniques stack (data parallel and
// tensor parallel, later pipeline stages): every hook call goes to each member in
// the order given. Holds non-owning pointers (the caller keeps the members alive).
// One thread (the model's) calls it.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <vector>

#include "model/model_hooks.hpp"

namespace weft::parallel {

class HooksChain final : public model::ModelHooks {
 public:
  HooksChain() = default;
  // nullptr members are skipped.
  HooksChain(std::initializer_list<model::ModelHooks*> hooks) {
    for (model::ModelHooks* h : hooks) add(h);
  }
  void add(model::ModelHooks* hooks) {
    if (hooks != nullptr) hooks_.push_back(hooks);
  }
  std::size_t size() const { return hooks_.size(); }

  void params_needed(int unit, model::Pass pass) override {
    for (auto* h : hooks_) h->params_needed(unit, pass);
  }
  void params_done(int unit, model::Pass pass) override {
    for (auto* h : hooks_) h->params_done(unit, pass);
  }
  void grads_ready(int unit) override {
    for (auto* h : hooks_) h->grads_ready(unit);
  }
  void sum_row_parallel_output(float* out, std::size_t n) override {
    for (auto* h : hooks_) h->sum_row_parallel_output(out, n);
  }
  void sum_column_parallel_input_grad(float* dinp, std::size_t n) override {
    for (auto* h : hooks_) h->sum_column_parallel_input_grad(dinp, n);
  }
  void sum_vocab_parallel_embedding(float* encoded, std::size_t n) override {
    for (auto* h : hooks_) h->sum_vocab_parallel_embedding(encoded, n);
  }
  void reduce_vocab_parallel_stats(double* stats, std::size_t n, bool max) override {
    for (auto* h : hooks_) h->reduce_vocab_parallel_stats(stats, n, max);
  }

 private:
  std::vector<model::ModelHooks*> hooks_;
};

}  // namespace weft::parallel
