// `weft rlhf`: PPO or DPO on an SFT model (infer/rlhf_stage.hpp). Parsing only.
#include <memory>

#include "cli/command_registry.hpp"
#include "cli/precision_option.hpp"
#include "infer/rlhf_stage.hpp"

namespace {

std::function<int()> setup_rlhf(CLI::App& app) {
  auto o = std::make_shared<weft::infer::RlhfOptions>();
  app.add_option("--method", o->method, "ppo (rollouts, reward model, critic) or dpo (pairs)")
      ->capture_default_str();
  app.add_option("--model", o->model,
                 "the SFT model (llm.c .bin): actor/policy and frozen reference")
      ->required();
  app.add_option("--reward-model", o->reward_model, "ppo: the reward model from `weft reward`");
  app.add_option("--tokenizer", o->tokenizer,
                 "tokenizer the model was trained with (gpt2 or a file)")
      ->capture_default_str();
  app.add_option("--pairs", o->pairs,
                 "dpo: preference pairs JSONL (weft data chat: pairs_train.jsonl)");
  app.add_option("--val-pairs", o->val_pairs, "dpo: held-out pairs for accuracy and margins");
  app.add_option("--prompts", o->prompts,
                 "ppo: prompts JSONL (lines with \"prompt\" or \"messages\")");
  app.add_option("--val-prompts", o->val_prompts,
                 "ppo: held-out prompts (greedy reward before/after)");
  app.add_option("--out,-o", o->out, "run directory (metrics.jsonl, model.bin)")->required();
  app.add_flag("--overwrite", o->overwrite, "replace an existing run in --out");
  app.add_option("--steps,-n", o->steps, "optimizer steps (dpo) or rollout batches (ppo)")
      ->capture_default_str();
  app.add_option("--batch,-b", o->batch, "global pairs (dpo) or prompts (ppo) per step")
      ->capture_default_str();
  app.add_option("--minibatch", o->minibatch, "ppo: rollout rows per update")
      ->capture_default_str();
  app.add_option("--epochs", o->epochs, "ppo: epochs over each rollout batch")
      ->capture_default_str();
  app.add_option("--kl-beta", o->kl_beta, "ppo: β of the per-token KL(actor‖ref) penalty")
      ->capture_default_str();
  app.add_option("--gamma", o->gamma, "ppo: discount γ")->capture_default_str();
  app.add_option("--lambda", o->lambda, "ppo: GAE λ")->capture_default_str();
  app.add_option("--clip", o->clip, "ppo: policy ratio clip ε")->capture_default_str();
  app.add_option("--value-clip", o->value_clip, "ppo: value clip ε")->capture_default_str();
  app.add_option("--critic-lr", o->critic_lr, "ppo: critic learning rate")->capture_default_str();
  app.add_option("--max-new-tokens", o->max_new_tokens, "ppo: tokens per rollout response at most")
      ->capture_default_str();
  app.add_option("--temperature", o->temperature, "ppo: rollout sampling temperature")
      ->capture_default_str();
  app.add_option("--val-count", o->val_count, "held-out prompts/pairs evaluated at most")
      ->capture_default_str();
  app.add_option("--beta", o->beta, "dpo: β (strength of the tie to the reference)")
      ->capture_default_str();
  app.add_option("--sft-weight", o->sft_weight,
                 "dpo: α of an NLL term on the chosen replies (RPO; 0 = plain DPO)")
      ->capture_default_str();
  app.add_option("--lr", o->lr, "learning rate (actor / policy)")->capture_default_str();
  app.add_option("--warmup", o->warmup, "dpo: linear warmup steps")->capture_default_str();
  app.add_option("--grad-clip", o->grad_clip, "clip the global grad norm (0 = off)")
      ->capture_default_str();
  app.add_option("--max-seq", o->max_seq, "context length (0 = the model's)")
      ->capture_default_str();
  app.add_option("--seed", o->seed, "seed of data order and sampling")->capture_default_str();
  app.add_option("--threads", o->threads, "threads (0 = OpenMP default)")->capture_default_str();
  weft::cli::add_precision_option(app, &o->precision);
  app.add_flag("--quiet,-q", o->quiet, "no step lines");
  app.add_option("--ranks", o->ranks, "data-parallel ranks as threads of this process")
      ->capture_default_str();
  app.add_option("--ranks-as", o->ranks_as, "threads | mpi (default: mpi under mpirun)");
  app.add_option("--comm-timeout", o->comm_timeout_s, "seconds before a collective gives up")
      ->capture_default_str();
  return [o] {
    weft::infer::rlhf(*o);
    return 0;
  };
}

WEFT_COMMAND("rlhf", "RLHF on an SFT model: PPO with a reward model and critic, or DPO on pairs",
             330, setup_rlhf);

}  // namespace
