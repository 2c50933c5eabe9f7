// The chat REPL (see chat_repl.hpp): parse a line, run /commands, or render the
// conversation, generate a reply with the engine and stream it.
#include "infer/chat_repl.hpp"

#include <algorithm>
#include <istream>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "data/chat_template.hpp"
#include "data/tokenizer.hpp"
#include "infer/engine.hpp"
#include "kernels/cpu/threads.hpp"

namespace weft::infer {
namespace {

const char* kHelp =
    "commands: /reset (forget the conversation), /temp X (temperature, 0 = greedy),\n"
    "          /system TEXT (set the system message), /history, /help, /quit\n"
    "          Ctrl-C stops a reply, Ctrl-D leaves\n";

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

int chat_repl(const ChatReplOptions& o, std::istream& in, std::ostream& out,
              std::atomic<bool>* interrupt) {
  if (o.threads > 0) cpu::set_num_threads(o.threads);
  const data::Tokenizer tok = data::tokenizer_load_spec(o.tokenizer);
  EngineOptions eo;
  eo.max_batch = 1;
  eo.max_seq = o.max_seq;
  eo.precision = cpu::parse_precision(o.precision);
  std::unique_ptr<Engine> engine = Engine::from_llmc(o.model, eo);
  if (tok.vocab_size() > static_cast<std::uint32_t>(engine->config().vocab))
    throw input_error(str("tokenizer ", o.tokenizer, " has ", tok.vocab_size(),
                          " ids (chat tokens included) but model ", o.model,
                          " has a vocabulary of ", engine->config().vocab),
                      "use the tokenizer the model was trained with");
  const data::SpecialIds sp = tok.special_ids();
  float temperature = o.temperature;
  std::string system = o.system;
  std::vector<data::ChatMessage> history;  // user/assistant turns, oldest first
  // The interrupt flag as the engine's cancel flag (not owned: aliasing, empty owner).
  std::shared_ptr<std::atomic<bool>> cancel(std::shared_ptr<void>(), interrupt);
  std::uint64_t turn = 0;
  out << "weft chat: " << o.model << " (" << engine->config().describe() << "), context "
      << engine->max_seq() << " tokens. /help for commands.\n";

  std::string line;
  for (;;) {
    if (o.prompts) out << "you> " << std::flush;
    if (!std::getline(in, line)) break;  // Ctrl-D / end of input
    line = trim(line);
    if (line.empty()) continue;
    if (line[0] == '/') {
      const std::string cmd = line.substr(0, line.find(' '));
      const std::string arg = line.size() > cmd.size() ? trim(line.substr(cmd.size())) : "";
      if (cmd == "/quit" || cmd == "/exit") break;
      if (cmd == "/help") {
        out << kHelp;
      } else if (cmd == "/reset") {
        history.clear();
        out << "[conversation reset]\n";
      } else if (cmd == "/temp") {
        try {
          std::size_t used = 0;
          const float t = std::stof(arg, &used);
          if (used != arg.size() || !(t >= 0.0f) || t > 100.0f) throw std::invalid_argument("");
          temperature = t;
          out << "[temperature " << temperature << "]\n";
        } catch (const std::exception&) {
          out << "[/temp needs a number >= 0, e.g. /temp 0.7]\n";
        }
      } else if (cmd == "/system") {
        system = arg;
        out << (system.empty() ? "[system message cleared]\n" : "[system message set]\n");
      } else if (cmd == "/history") {
        if (!system.empty()) out << "system: " << system << "\n";
        for (const data::ChatMessage& m : history)
          out << data::chat_role_name(m.role) << ": " << m.content << "\n";
      } else {
        out << "[unknown command " << cmd << "; /help lists them]\n";
      }
      continue;
    }

    history.push_back({data::ChatRole::kUser, line});
    // Drop the oldest turns until the prompt leaves room for a reply.
    const int room = std::min(o.max_tokens, engine->max_seq() / 2);
    std::vector<std::int32_t> prompt;
    for (;;) {
      std::vector<data::ChatMessage> msgs;
      if (!system.empty()) msgs.push_back({data::ChatRole::kSystem, system});
      msgs.insert(msgs.end(), history.begin(), history.end());
      const std::vector<std::uint32_t> ids = data::chat_render_prompt(tok, msgs);
      if (static_cast<int>(ids.size()) + room <= engine->max_seq() || history.size() <= 1) {
        prompt.assign(ids.begin(), ids.end());
        break;
      }
      history.erase(history.begin(),
                    history.begin() + std::min<std::size_t>(2, history.size() - 1));
    }
    if (static_cast<int>(prompt.size()) >= engine->max_seq()) {
      out << "[message too long for the " << engine->max_seq() << "-token context]\n";
      history.pop_back();
      continue;
    }

    GenerationRequest r;
    r.prompt = std::move(prompt);
    r.sampling.temperature = temperature;
    r.sampling.top_k = o.top_k;
    r.sampling.top_p = o.top_p;
    r.sampling.repetition_penalty = o.repetition_penalty;
    r.sampling.seed = o.seed + turn++;
    r.max_tokens = o.max_tokens;
    r.stop_tokens = {{static_cast<std::int32_t>(sp.end)},
                     {static_cast<std::int32_t>(sp.endoftext)}};
    r.cancel = interrupt ? cancel : nullptr;
    r.on_token = [&](std::int32_t t) {
      out << tok.token_bytes(static_cast<std::uint32_t>(t)) << std::flush;
    };
    if (interrupt) interrupt->store(false);
    out << "assistant> " << std::flush;
    const GenerationResult g = engine->generate(std::move(r));
    if (g.finish == FinishReason::kCancelled) out << " [stopped]";
    if (g.finish == FinishReason::kLength) out << " [length limit]";
    if (g.finish == FinishReason::kError) out << "[error: " << g.error << "]";
    out << "\n";
    if (interrupt) interrupt->store(false);
    std::vector<std::uint32_t> ids(g.tokens.begin(), g.tokens.end());
    history.push_back({data::ChatRole::kAssistant, tok.decode(ids)});
  }
  if (o.prompts) out << "\n";
  return 0;
}

}  // namespace weft::infer
