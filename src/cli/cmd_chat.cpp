// `weft chat`: terminal chat with a model (infer/chat_repl.hpp). Parsing, plus the
// SIGINT handler: Ctrl-C sets a flag that cancels the reply being generated instead
// of ending the process. The flag is a process-wide atomic because a signal handler
// can reach nothing else; it is the only mutable global here.
#include <csignal>
#include <iostream>
#include <memory>

#include "cli/command_registry.hpp"
#include "cli/precision_option.hpp"
#include "infer/chat_repl.hpp"

namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void on_sigint(int) {
  g_interrupted.store(true);
}

std::function<int()> setup_chat(CLI::App& app) {
  auto o = std::make_shared<weft::infer::ChatReplOptions>();
  app.add_option("--model,-m", o->model, "llm.c GPT-2 checkpoint (.bin)")->required();
  app.add_option("--tokenizer", o->tokenizer,
                 "tok.json (weft), a GPT-2 folder, a tiktoken file, or gpt2")
      ->capture_default_str();
  app.add_option("--system", o->system, "system message");
  app.add_option("--temperature,--temp", o->temperature, "sampling temperature (0 = greedy)")
      ->capture_default_str();
  app.add_option("--top-k", o->top_k, "keep the k most likely tokens (0 = off)")
      ->capture_default_str();
  app.add_option("--top-p", o->top_p, "nucleus sampling mass (1 = off)")->capture_default_str();
  app.add_option("--repetition-penalty", o->repetition_penalty, "CTRL repetition penalty (1 = off)")
      ->capture_default_str();
  app.add_option("--max-tokens", o->max_tokens, "longest reply in tokens")->capture_default_str();
  app.add_option("--seed", o->seed, "sampling seed")->capture_default_str();
  app.add_option("--context", o->max_seq, "context length in tokens (0 = the model's)")
      ->capture_default_str();
  app.add_option("--threads", o->threads, "threads (0 = OpenMP default)")->capture_default_str();
  weft::cli::add_precision_option(app, &o->precision);
  app.add_flag(
      "--no-prompt", [o](std::int64_t) { o->prompts = false; }, "do not print 'you> '");
  return [o] {
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // a Ctrl-C at the prompt does not end the read
    sigaction(SIGINT, &sa, nullptr);
    return weft::infer::chat_repl(*o, std::cin, std::cout, &g_interrupted);
  };
}

WEFT_COMMAND("chat", "Chat with a model in the terminal (streaming; /help inside)", 700,
             setup_chat);

}  // namespace
