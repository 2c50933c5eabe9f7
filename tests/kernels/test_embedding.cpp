// Embedding kernel vs the double reference; reference backward vs finite differences.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "kernels/cpu/embedding.hpp"
#include "kernels/cpu/reference/reference.hpp"
#include "kernel_test_util.hpp"

namespace weft {
namespace {

using namespace kernel_test;

constexpr int B = 2, T = 7, C = 12, V = 101, Vp = 130, maxT = 9;

std::vector<int32_t> tokens() {
  // Repeats on purpose (token 5 twice) so backward must accumulate.
  return {5, 0, 100, 17, 5, 42, 99, 3, 3, 64, 8, 100, 1, 2};
}

TEST(KernelEmbedding, ForwardBackwardMatchReference) {
  const auto inp = tokens();
  auto wte = random_vec(static_cast<size_t>(Vp) * C, 1);
  auto wpe = random_vec(static_cast<size_t>(maxT) * C, 2);
  const auto dout = random_vec(static_cast<size_t>(B) * T * C, 3);

  std::vector<double> out_ref(dout.size());
  ref::embedding_forward(out_ref.data(), inp.data(), wte.data(), wpe.data(), B, T, C);
  std::vector<float> out(dout.size());
  const auto wte_f = to_float(wte), wpe_f = to_float(wpe);
  cpu::embedding_forward(out.data(), inp.data(), wte_f.data(), wpe_f.data(), B, T, C, V);
  expect_close(out, out_ref, 0, 6e-8, "embedding out");  // one float add: correctly rounded

  // Backward adds: start from non-zero gradients.
  auto dwte_ref = random_vec(wte.size(), 4), dwpe_ref = random_vec(wpe.size(), 5);
  auto dwte = to_float(dwte_ref), dwpe = to_float(dwpe_ref);
  const auto dwte0 = dwte_ref, dwpe0 = dwpe_ref;
  ref::embedding_backward(dwte_ref.data(), dwpe_ref.data(), dout.data(), inp.data(), B, T, C);
  const auto dout_f = to_float(dout);
  cpu::embedding_backward(dwte.data(), dwpe.data(), dout_f.data(), inp.data(), B, T, C);
  expect_close(dwte, dwte_ref, 1e-6, 1e-6, "dwte");
  expect_close(dwpe, dwpe_ref, 1e-6, 1e-6, "dwpe");

  // Reference gradient (what backward added) vs finite differences of Σ out·dout.
  std::vector<double> g_wte(wte.size()), g_wpe(wpe.size());
  for (size_t i = 0; i < wte.size(); ++i) g_wte[i] = dwte_ref[i] - dwte0[i];
  for (size_t i = 0; i < wpe.size(); ++i) g_wpe[i] = dwpe_ref[i] - dwpe0[i];
  std::vector<double> tmp(dout.size());
  auto loss = [&] {
    ref::embedding_forward(tmp.data(), inp.data(), wte.data(), wpe.data(), B, T, C);
    return dot(tmp, dout);
  };
  expect_grad_matches_fd(wte, g_wte, loss, 1e-8, "dwte fd");
  expect_grad_matches_fd(wpe, g_wpe, loss, 1e-8, "dwpe fd");
}

TEST(KernelEmbedding, TokenOutsideVocabularyIsAnInputError) {
  auto inp = tokens();
  inp[9] = V;  // padded row: not a real token
  std::vector<float> wte(static_cast<size_t>(Vp) * C), wpe(static_cast<size_t>(maxT) * C),
      out(static_cast<size_t>(B) * T * C);
  try {
    cpu::embedding_forward(out.data(), inp.data(), wte.data(), wpe.data(), B, T, C, V);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_NE(std::string(e.what()).find("token 101"), std::string::npos) << e.what();
  }
  inp[9] = -1;
  EXPECT_THROW(cpu::embedding_forward(out.data(), inp.data(), wte.data(), wpe.data(), B, T, C, V),
               Error);
}

}  // namespace
}  // namespace weft
