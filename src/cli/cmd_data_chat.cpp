// `weft data chat`: parses options and calls data::chat_data_make (data/chat_data.hpp),
// which builds SFT conversations, preference pairs and eval prompts from the KJV
// Bible and WordNet. Main thread only.
#include <cstdio>
#include <memory>

#include "cli/data_registry.hpp"
#include "data/chat_data.hpp"

namespace {

namespace data = weft::data;

std::function<int()> setup_data_chat(CLI::App& app) {
  auto o = std::make_shared<data::ChatDataOptions>();
  auto source = std::make_shared<std::string>("both");
  app.add_option("--source", *source, "kjv (Debian bible-kjv), wordnet (wordnet-base) or both")
      ->capture_default_str();
  app.add_option("--out", o->out_dir, "Output directory (existing files are never overwritten)")
      ->required();
  app.add_option("--seed", o->build.seed, "Seed: same seed, same files")->capture_default_str();
  app.add_option("--test-fraction", o->build.test_fraction,
                 "Fraction of the items (verses, synsets) held out for test")
      ->capture_default_str();
  app.add_option("--max-examples", o->build.max_examples, "Conversations to build, train + test")
      ->capture_default_str();
  app.add_option("--wordnet-dir", o->wordnet_dir, "Folder with WordNet's data.noun etc.")
      ->capture_default_str();
  app.add_option("--bible-program", o->bible_program, "The bible-kjv program")
      ->capture_default_str();
  return [o, source] {
    o->source = data::chat_data_source_parse(*source);
    const data::ChatDataSet set = data::chat_data_make(*o);
    std::printf("%s: %zu train and %zu test conversations, preference pairs and eval prompts\n",
                o->out_dir.c_str(), set.train.size(), set.test.size());
    return 0;
  };
}

WEFT_DATA_COMMAND("chat", "SFT conversations + preference pairs + eval prompts (KJV, WordNet)", 30,
                  setup_data_chat);

}  // namespace
