// `weft demo` (see demo_pipeline.hpp): the stages in order, each through StageRunner,
// then report.md. Stage bodies are short calls into the library.
#include "demo/demo_pipeline.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "data/chat_data.hpp"
#include "data/etl_prepare.hpp"
#include "data/tokenizer.hpp"
#include "data/tokenizer_encoder.hpp"
#include "demo/demo_post.hpp"
#include "demo/demo_pretrain.hpp"
#include "demo/demo_report.hpp"
#include "demo/demo_settings.hpp"
#include "demo/demo_stage.hpp"
#include "demo/svg_plot.hpp"
#include "infer/eval_run.hpp"
#include "kernels/cpu/threads.hpp"
#include "model/gpt_config.hpp"
#include "model/llmc_checkpoint.hpp"
#include "sys/hw_report.hpp"

namespace weft::demo {
namespace {

namespace fs = std::filesystem;

void write_text(const std::string& path, const std::string& text) {
  file_write_atomic(path, text.data(), text.size(), /*durable=*/false);
}

// RUN_DIR: refuse to touch an existing one unless --overwrite (delete) or --resume.
void prepare_run_dir(const DemoOptions& o) {
  if (o.overwrite && o.resume) throw input_error("weft demo: give --overwrite or --resume, not both");
  if (fs::exists(o.out)) {
    if (o.overwrite) {
      if (!fs::exists(fs::path(o.out) / "stages.json") && !fs::is_empty(o.out))
        throw input_error(str("weft demo: ", o.out, " exists and is not a demo run directory"),
                          "pick another --out; --overwrite only replaces an earlier demo run");
      fs::remove_all(o.out);
    } else if (!o.resume && !fs::is_empty(o.out)) {
      throw input_error(str("weft demo: ", o.out, " already exists"),
                        "use --resume to continue it, --overwrite to start it again, or another --out");
    }
  }
  fs::create_directories(o.out);
}

std::vector<data::Source> kjv_books(int n) {
  std::vector<data::Source> books = data::etl_sources_kjv();
  if (n < static_cast<int>(books.size())) books.resize(static_cast<std::size_t>(n));
  return books;
}

std::string stage_tokenizer(const DemoSettings& s, const std::string& path, int threads, bool progress) {
  const std::vector<data::Source> books = kjv_books(s.kjv_books);
  std::vector<std::string_view> texts;
  std::size_t bytes = 0;
  for (const data::Source& b : books) {
    texts.emplace_back(*b.text);
    bytes += b.text->size();
  }
  const data::Tokenizer tok =
      data::tokenizer_train(texts, {static_cast<std::uint32_t>(s.vocab), threads, progress});
  tok.save(path);
  return str(books.size(), " KJV books, ", format_bytes(static_cast<double>(bytes)), " → ",
             tok.vocab_size(), " tokens (", path, ")");
}

std::string stage_shards(const DemoSettings& s, const std::string& tok_path, const std::string& dir,
                         int workers, bool progress) {
  data::TokenizerEncoder encoder(data::Tokenizer::load(tok_path), tok_path);
  data::PrepareOptions po;
  po.out_dir = dir;
  po.workers = workers;
  po.shard_tokens = 50'000'000;
  po.plan.val_fraction = 0.02;
  po.progress = progress;
  const data::PrepareResult r = data::etl_prepare(kjv_books(s.kjv_books), encoder, po);
  return str(r.manifest.split_tokens("train"), " train tokens, ", r.manifest.split_tokens("val"),
             " val tokens");
}

// The plots of every metrics.jsonl the stages wrote: (file, key, title).
std::vector<DemoPlot> write_plots(const std::string& run) {
  struct Want {
    std::string metrics, key, file, title, y;
  };
  const std::vector<Want> wants = {
      {"pretrain/metrics.jsonl", "loss", "pretrain_loss.svg", "Pretraining loss", "loss (nats)"},
      {"sft/metrics.jsonl", "loss", "sft_loss.svg", "SFT loss (assistant tokens)", "loss (nats)"},
      {"reward/metrics.jsonl", "loss", "reward_loss.svg", "Reward model loss", "loss"},
      {"ppo/metrics.jsonl", "reward", "ppo_reward.svg", "PPO mean reward", "reward"},
      {"dpo/metrics.jsonl", "loss", "dpo_loss.svg", "DPO loss", "loss"}};
  std::vector<DemoPlot> plots;
  for (const Want& w : wants) {
    const std::string m = run + "/" + w.metrics;
    if (!fs::exists(m)) continue;
    std::vector<PlotSeries> series = {metrics_series(m, w.key)};
    series[0].name = "train " + w.key;
    if (w.key == "loss") {
      PlotSeries v = metrics_series(m, "val_loss");
      v.name = "val loss";
      if (!v.x.empty()) series.push_back(v);
    }
    write_text(run + "/" + w.file, svg_line_plot(series, {w.title, "step", w.y}));
    plots.push_back({w.file, w.title});
  }
  return plots;
}

}  // namespace

int demo_run(const DemoOptions& o) {
  prepare_run_dir(o);
  const DemoSettings s = demo_settings(o.quick, o.scale);
  const sys::HwReport hw = sys::collect_hw_report();
  const int cpus = o.threads > 0 ? o.threads
                                 : std::max(1, hw.cpu.logical_cpus.value_or(
                                                   static_cast<int>(std::thread::hardware_concurrency())));
  cpu::set_num_threads(cpus);
  const int ranks = std::max(1, o.ranks);
  const std::string mpirun = (o.no_mpi || ranks < 2) ? "" : demo_find_mpirun();
  const std::string run = o.out;
  const std::string tok_path = run + "/tok.json", shard_dir = run + "/shards",
                    chat_dir = run + "/chat", base_model = run + "/pretrain/model.bin";
  StageRunner st(run, o.resume, 10);
  DemoReport rep;
  rep.command = str("weft demo --out ", run, o.quick ? " --quick" : "", " --ranks ", ranks,
                    o.scale != 1.0 ? str(" --scale ", o.scale) : "");
  rep.hardware = sys::hw_report_table(hw);

  st.run("hardware", "Hardware report", [&] {
    std::printf("%s", rep.hardware.c_str());
    write_text(run + "/hardware.txt", rep.hardware);
    return str(cpus, " threads used");
  });
  st.run("tokenizer", str("Tokenizer: byte-level BPE, ", s.vocab, " tokens, trained on the KJV"),
         [&] { return stage_tokenizer(s, tok_path, cpus, o.progress); });
  st.run("shards", "Token shards (llm.c format)",
         [&] { return stage_shards(s, tok_path, shard_dir, cpus, o.progress); });

  train::PretrainOptions po;
  po.model = s.model;
  po.vocab = static_cast<int>(data::Tokenizer::load(tok_path).vocab_size());
  po.max_seq = s.max_seq;
  po.data = shard_dir;
  po.batch = s.batch;
  po.seq = s.seq;
  po.steps = s.pretrain_steps;
  po.lr = s.lr;
  po.warmup = s.warmup;
  po.weight_decay = 0.1;
  po.val_every = s.val_every;
  po.val_batches = 4;
  po.out = run + "/pretrain";
  po.ranks = ranks;
  po.ranks_as = mpirun.empty() && ranks > 1 ? "threads" : "";
  po.threads = std::max(1, cpus / ranks);
  const model::GptConfig mc = model::gpt_config_preset(s.model, po.vocab, s.max_seq);
  std::string launcher = mpirun.empty() ? str(ranks, " thread rank(s)") : str(ranks, " MPI processes (mpirun)");
  st.run("pretrain", str("Pretraining ", s.model, " on ", launcher), [&] {
    const DemoPretrainResult r = demo_pretrain(po, mpirun, o.progress);
    launcher = r.launcher;
    write_text(run + "/pretrain/command.txt", r.command + "\n");
    return str(s.pretrain_steps, " steps, loss ", r.final_loss,
               r.final_val_loss > 0 ? str(", val loss ", r.final_val_loss) : "");
  });
  rep.layout = {
      str("data parallel: ", ranks, " rank(s), ", launcher, ", ", po.threads, " thread(s) per rank"),
      str("model ", s.model, ": ", mc.describe(), ", ", format_count(static_cast<double>(mc.num_params())),
          " parameters"),
      str("pretraining: ", s.pretrain_steps, " steps × ", s.batch, " rows × ", s.seq, " tokens, AdamW lr ",
          s.lr),
      str("corpus: ", s.kjv_books, " book(s) of the King James Bible (Debian bible-kjv)")};

  st.run("chat_data", "Chat data: SFT conversations, preference pairs, held-out prompts", [&] {
    data::ChatDataOptions co;
    co.source = data::ChatDataSource::kKjv;
    co.out_dir = chat_dir;
    co.build.max_examples = static_cast<std::size_t>(s.chat_examples);
    fs::remove_all(chat_dir);  // an interrupted earlier try (info.json marks a whole set)
    const data::ChatDataSet set = data::chat_data_make(co);
    return str(set.train.size(), " train and ", set.test.size(), " held-out examples (", chat_dir, ")");
  });

  DemoPostContext pc{run, tok_path, chat_dir, base_model, s, cpus, o.progress};
  const DemoPostModels post = demo_post_stages(st, pc);

  // Evaluation: one row per model that exists.
  infer::EvalOptions eo;
  eo.limit = s.eval_limit;
  eo.max_tokens = s.eval_max_tokens;
  eo.progress = o.progress;
  if (!post.reward_model.empty()) eo.reward = demo_reward_fn(post.reward_model, tok_path);
  const std::string eval_data = chat_dir + "/eval_test.jsonl";
  std::vector<std::pair<std::string, std::string>> rows = {{"base", base_model}};
  if (!post.sft_model.empty()) rows.push_back({"sft", post.sft_model});
  if (!post.ppo_model.empty()) rows.push_back({"ppo", post.ppo_model});
  if (!post.dpo_model.empty()) rows.push_back({"dpo", post.dpo_model});
  std::string eval_json;
  // Always rerun (also on --resume): it is cheap and its rows feed the report.
  st.run("eval", str("Evaluation: held-out and seen prompts (", rows.size(), " model(s))"), [&] {
    for (const auto& [label, path] : rows) {
      eo.label = label;
      rep.eval.push_back(infer::eval_files(path, tok_path, eval_data, eo));
      eval_json += infer::eval_result_json(rep.eval.back()) + "\n";
    }
    for (const auto& [label, path] : rows) {
      eo.label = label + " (seen)";
      rep.eval_seen.push_back(infer::eval_files(path, tok_path, chat_dir + "/eval_train.jsonl", eo));
      eval_json += infer::eval_result_json(rep.eval_seen.back()) + "\n";
    }
    write_text(run + "/eval.jsonl", eval_json);
    std::printf("\nheld-out prompts (%s):\n%s", eval_data.c_str(), demo_eval_table_text(rep.eval).c_str());
    std::printf("\nprompts seen in SFT/RL training (eval_train.jsonl):\n%s",
                demo_eval_table_text(rep.eval_seen).c_str());
    return str(rep.eval.size(), " model(s), ", rep.eval.front().n, " held-out and ",
               rep.eval_seen.front().n, " seen prompts each");
  }, /*rerun=*/true);
  rep.eval_data = eval_data;

  // The model to talk to: the best held-out token-F1 (the latest stage on ties).
  std::string best = rows.back().second;
  double best_f1 = -1;
  for (std::size_t i = 0; i < rep.eval.size() && i < rows.size(); ++i)
    if (rep.eval[i].token_f1 >= best_f1) {
      best_f1 = rep.eval[i].token_f1;
      best = rows[i].second;
    }
  rep.next_commands = {str("weft chat --model ", best, " --tokenizer ", tok_path),
                       str("weft serve --model ", best, " --tokenizer ", tok_path, " --port 8080")};
  rep.plots = write_plots(run);
  rep.stages = st.records();
  write_text(run + "/report.md", demo_report_markdown(rep));
  std::printf("\nweft demo finished in %s. Report: %s/report.md\nTalk to the model:\n  %s\n  %s\n",
              format_duration(st.total_seconds()).c_str(), run.c_str(), rep.next_commands[0].c_str(),
              rep.next_commands[1].c_str());
  for (const StageRecord& r : rep.stages)
    if (r.status == StageStatus::kFailed) {
      std::printf("\nweft demo: stage '%s' failed (see report.md); the others ran.\n", r.name.c_str());
      return 1;
    }
  return 0;
}

}  // namespace weft::demo
