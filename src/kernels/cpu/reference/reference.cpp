// Double-precision reference kernels (see reference.hpp). Written for clarity, not speed.
#include "kernels/cpu/reference/reference.hpp"

#include <cmath>
#include <cstddef>
#include <vector>

namespace weft::ref {

using std::size_t;

void embedding_forward(double* out, const int32_t* inp, const double* wte, const double* wpe,
                       int B, int T, int C, const int32_t* pos) {
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) {
      const size_t i = static_cast<size_t>(b) * T + t;
      const size_t p = pos ? static_cast<size_t>(pos[i]) : static_cast<size_t>(t);
      for (int c = 0; c < C; ++c)
        out[i * C + c] = wte[static_cast<size_t>(inp[i]) * C + c] + wpe[p * C + c];
    }
}

void embedding_backward(double* dwte, double* dwpe, const double* dout, const int32_t* inp,
                        int B, int T, int C, const int32_t* pos) {
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) {
      const size_t i = static_cast<size_t>(b) * T + t;
      const size_t p = pos ? static_cast<size_t>(pos[i]) : static_cast<size_t>(t);
      for (int c = 0; c < C; ++c) {
        dwte[static_cast<size_t>(inp[i]) * C + c] += dout[i * C + c];
        dwpe[p * C + c] += dout[i * C + c];
      }
    }
}

void layernorm_forward(double* out, double* mean, double* rstd, const double* inp,
                       const double* weight, const double* bias, int N, int C) {
  for (int n = 0; n < N; ++n) {
    const double* x = inp + static_cast<size_t>(n) * C;
    double m = 0.0;
    for (int c = 0; c < C; ++c) m += x[c];
    m /= C;
    double var = 0.0;
    for (int c = 0; c < C; ++c) var += (x[c] - m) * (x[c] - m);
    var /= C;
    const double s = 1.0 / std::sqrt(var + 1e-5);
    for (int c = 0; c < C; ++c)
      out[static_cast<size_t>(n) * C + c] = (x[c] - m) * s * weight[c] + bias[c];
    mean[n] = m;
    rstd[n] = s;
  }
}

void layernorm_backward(double* dinp, double* dweight, double* dbias, const double* dout,
                        const double* inp, const double* weight, const double* mean,
                        const double* rstd, int N, int C) {
  for (int n = 0; n < N; ++n) {
    const double* x = inp + static_cast<size_t>(n) * C;
    const double* d = dout + static_cast<size_t>(n) * C;
    double* dx = dinp + static_cast<size_t>(n) * C;
    double a = 0.0, b = 0.0;
    for (int c = 0; c < C; ++c) {
      const double xhat = (x[c] - mean[n]) * rstd[n];
      a += d[c] * weight[c];
      b += d[c] * weight[c] * xhat;
      dweight[c] += d[c] * xhat;
      dbias[c] += d[c];
    }
    a /= C;
    b /= C;
    for (int c = 0; c < C; ++c) {
      const double xhat = (x[c] - mean[n]) * rstd[n];
      dx[c] = rstd[n] * (d[c] * weight[c] - a - xhat * b);
    }
  }
}

void matmul_forward(double* out, const double* inp, const double* weight, const double* bias,
                    int N, int C, int OC) {
  for (int n = 0; n < N; ++n)
    for (int o = 0; o < OC; ++o) {
      double acc = bias != nullptr ? bias[o] : 0.0;
      for (int c = 0; c < C; ++c)
        acc += inp[static_cast<size_t>(n) * C + c] * weight[static_cast<size_t>(o) * C + c];
      out[static_cast<size_t>(n) * OC + o] = acc;
    }
}

void matmul_backward(double* dinp, double* dweight, double* dbias, const double* dout,
                     const double* inp, const double* weight, int N, int C, int OC) {
  for (int n = 0; n < N; ++n) {
    if (dinp != nullptr)
      for (int c = 0; c < C; ++c) {
        double acc = 0.0;
        for (int o = 0; o < OC; ++o)
          acc += dout[static_cast<size_t>(n) * OC + o] * weight[static_cast<size_t>(o) * C + c];
        dinp[static_cast<size_t>(n) * C + c] = acc;
      }
    for (int o = 0; o < OC; ++o) {
      const double d = dout[static_cast<size_t>(n) * OC + o];
      if (dbias != nullptr) dbias[o] += d;
      for (int c = 0; c < C; ++c)
        dweight[static_cast<size_t>(o) * C + c] += d * inp[static_cast<size_t>(n) * C + c];
    }
  }
}

void attention_forward(double* out, double* att, const double* qkv, int B, int T, int C, int NH,
                       const int32_t* doc_start) {
  const int hs = C / NH;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hs));
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < NH; ++h)
      for (int t = 0; t < T; ++t) {
        const double* q = qkv + (static_cast<size_t>(b) * T + t) * 3 * C + h * hs;
        double* a = att + ((static_cast<size_t>(b) * NH + h) * T + t) * T;
        const int lo = doc_start ? doc_start[static_cast<size_t>(b) * T + t] : 0;
        double mx = -1e300;
        for (int s = lo; s <= t; ++s) {
          const double* k = qkv + (static_cast<size_t>(b) * T + s) * 3 * C + C + h * hs;
          double dot = 0.0;
          for (int i = 0; i < hs; ++i) dot += q[i] * k[i];
          a[s] = dot * scale;
          mx = std::fmax(mx, a[s]);
        }
        double sum = 0.0;
        for (int s = lo; s <= t; ++s) {
          a[s] = std::exp(a[s] - mx);
          sum += a[s];
        }
        for (int s = 0; s < T; ++s) a[s] = s >= lo && s <= t ? a[s] / sum : 0.0;
        double* o = out + (static_cast<size_t>(b) * T + t) * C + h * hs;
        for (int i = 0; i < hs; ++i) {
          double acc = 0.0;
          for (int s = lo; s <= t; ++s)
            acc += a[s] * qkv[(static_cast<size_t>(b) * T + s) * 3 * C + 2 * C + h * hs + i];
          o[i] = acc;
        }
      }
}

void attention_backward(double* dqkv, const double* dout, const double* att, const double* qkv,
                        int B, int T, int C, int NH) {
  const int hs = C / NH;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hs));
  for (size_t i = 0; i < static_cast<size_t>(B) * T * 3 * C; ++i) dqkv[i] = 0.0;
  std::vector<double> da(static_cast<size_t>(T));
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < NH; ++h)
      for (int t = 0; t < T; ++t) {
        const double* a = att + ((static_cast<size_t>(b) * NH + h) * T + t) * T;
        const double* d = dout + (static_cast<size_t>(b) * T + t) * C + h * hs;
        const size_t qoff = (static_cast<size_t>(b) * T + t) * 3 * C + h * hs;
        // out = Σ_s a[s]·v[s] → da[s] = d·v[s], dv[s] += a[s]·d
        for (int s = 0; s <= t; ++s) {
          const size_t voff = (static_cast<size_t>(b) * T + s) * 3 * C + 2 * C + h * hs;
          double dot = 0.0;
          for (int i = 0; i < hs; ++i) {
            dot += d[i] * qkv[voff + i];
            dqkv[voff + i] += a[s] * d[i];
          }
          da[static_cast<size_t>(s)] = dot;
        }
        // softmax: dscore[s] = a[s]·(da[s] − Σ_r a[r]·da[r])
        double inner = 0.0;
        for (int s = 0; s <= t; ++s) inner += a[s] * da[static_cast<size_t>(s)];
        for (int s = 0; s <= t; ++s) {
          const double ds = a[s] * (da[static_cast<size_t>(s)] - inner) * scale;
          const size_t koff = (static_cast<size_t>(b) * T + s) * 3 * C + C + h * hs;
          for (int i = 0; i < hs; ++i) {
            dqkv[qoff + i] += ds * qkv[koff + i];
            dqkv[koff + i] += ds * qkv[qoff + i];
          }
        }
      }
}

namespace {
constexpr double kGeluScale = 0.79788456080286535588;  // sqrt(2/pi)
}

void gelu_forward(double* out, const double* inp, long n) {
  for (long i = 0; i < n; ++i) {
    const double x = inp[i];
    out[i] = 0.5 * x * (1.0 + std::tanh(kGeluScale * (x + 0.044715 * x * x * x)));
  }
}

void gelu_backward(double* dinp, const double* dout, const double* inp, long n) {
  for (long i = 0; i < n; ++i) {
    const double x = inp[i];
    const double th = std::tanh(kGeluScale * (x + 0.044715 * x * x * x));
    const double dth = (1.0 - th * th) * kGeluScale * (1.0 + 3.0 * 0.044715 * x * x);
    dinp[i] = (0.5 * (1.0 + th) + 0.5 * x * dth) * dout[i];
  }
}

double classifier_loss(double* losses, const double* logits, const int32_t* targets,
                       const double* weights, int N, int V, int Vp) {
  double num = 0.0, den = 0.0;
  for (int i = 0; i < N; ++i) {
    const double w = weights != nullptr ? weights[i] : 1.0;
    losses[i] = 0.0;
    if (w == 0.0) continue;
    const double* x = logits + static_cast<size_t>(i) * Vp;
    double mx = x[0];
    for (int j = 1; j < V; ++j) mx = std::fmax(mx, x[j]);
    double sum = 0.0;
    for (int j = 0; j < V; ++j) sum += std::exp(x[j] - mx);
    losses[i] = std::log(sum) + mx - x[targets[i]];
    num += w * losses[i];
    den += w;
  }
  return den > 0.0 ? num / den : 0.0;
}

void classifier_grad(double* dlogits, const double* logits, const int32_t* targets,
                     const double* weights, int N, int V, int Vp, double grad_scale) {
  double den = 0.0;
  for (int i = 0; i < N; ++i) den += weights != nullptr ? weights[i] : 1.0;
  for (int i = 0; i < N; ++i) {
    const double w = weights != nullptr ? weights[i] : 1.0;
    const double* x = logits + static_cast<size_t>(i) * Vp;
    double* g = dlogits + static_cast<size_t>(i) * Vp;
    for (int j = 0; j < Vp; ++j) g[j] = 0.0;
    if (w == 0.0) continue;
    double mx = x[0];
    for (int j = 1; j < V; ++j) mx = std::fmax(mx, x[j]);
    double sum = 0.0;
    for (int j = 0; j < V; ++j) sum += std::exp(x[j] - mx);
    const double k = grad_scale * w / den;
    for (int j = 0; j < V; ++j) g[j] = k * std::exp(x[j] - mx) / sum;
    g[targets[i]] -= k;
  }
}

}  // namespace weft::ref
