// The per-token maths of RLHF (PPO, DPO) as small pure functions over caller-owned
// arrays, so each can be tested alone against an independent reference: the KL
// penalty, GAE, the clipped policy and value losses with their gradients, the DPO
// loss and its gradient, per-token log-probabilities and entropy from logits and the
// logits gradient of a log-probability. Formulas: docs/training.md "weft rlhf".
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <span>

namespace weft::train {

// Per-token rewards of one response of n tokens: r_t = −β·(logp_t − ref_logp_t)
// (the k1 estimate of KL(actor‖ref) per token), plus the sequence score on the last
// token. rewards (n) written.
void rlhf_token_rewards(std::span<float> rewards, std::span<const float> logp,
                        std::span<const float> ref_logp, float score, float beta);

// Generalised advantage estimation over one response (V after the last token = 0):
//   δ_t = r_t + γ·V_{t+1} − V_t,  A_t = δ_t + γλ·A_{t+1},  R_t = A_t + V_t.
// advantages, returns (n) written.
void gae(std::span<float> advantages, std::span<float> returns, std::span<const float> rewards,
         std::span<const float> values, float gamma, float lambda);

// In place: (x − mean) / (std + 1e-8) over all entries (population std).
void whiten(std::span<float> x);

struct PolicyLoss {
  double loss = 0.0;          // mean over tokens of max(−A·ρ, −A·clip(ρ, 1±ε))
  double clip_fraction = 0.0; // fraction of tokens whose clipped term was taken (and differs)
  double approx_kl = 0.0;     // mean of (logp_old − logp_new): KL(old‖new) estimate
};

// PPO's clipped surrogate over n tokens, ρ = exp(logp − old_logp). dlogp (n) is
// written with d(loss)/d(logp_t) · grad_scale (the mean's 1/n included).
PolicyLoss ppo_policy_loss(std::span<float> dlogp, std::span<const float> logp,
                           std::span<const float> old_logp, std::span<const float> advantages,
                           float clip_eps, float grad_scale);

// PPO's clipped value loss over n tokens:
//   ½·mean(max((V − R)², (clip(V, V_old ± ε) − R)²)).
// dvalues (n) written with d(loss)/d(V_t) · grad_scale. Returns the loss.
double ppo_value_loss(std::span<float> dvalues, std::span<const float> values,
                      std::span<const float> old_values, std::span<const float> returns,
                      float clip_eps, float grad_scale);

struct DpoLoss {
  double loss = 0.0;    // −log σ(β·margin)
  double margin = 0.0;  // (logπ(c) − logπ_ref(c)) − (logπ(r) − logπ_ref(r))
  double d_chosen = 0.0;    // d(loss)/d logπ(chosen)
  double d_rejected = 0.0;  // d(loss)/d logπ(rejected)
};

// DPO for one pair from the four sequence log-probabilities (sums over the response).
DpoLoss dpo_loss(double logp_chosen, double logp_rejected, double ref_chosen,
                 double ref_rejected, float beta);

// Softmax statistics of one row of logits over the real vocabulary V: the
// log-probability of `token` and the entropy −Σ p·log p, in double.
struct TokenStats {
  double logp = 0.0;
  double entropy = 0.0;
};
TokenStats token_stats(std::span<const float> logits, std::int32_t token);

// Adds into dlogits (V) the gradient of g·log softmax(logits)[token]:
// g·([j == token] − p_j).
void logprob_grad_add(std::span<float> dlogits, std::span<const float> logits, std::int32_t token,
                      float g);

}  // namespace weft::train
