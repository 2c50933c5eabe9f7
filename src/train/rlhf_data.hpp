// RLHF's inputs from `weft data chat` JSONL (docs/formats.md "Chat data"), rendered with
// the chat template: preference pairs {"prompt","chosen","rejected"} for DPO, and
// prompts for PPO from any file whose lines hold "prompt" (pairs_*, eval_*) or
// "messages" (sft_*: the conversation up to its last assistant turn). Returned
// vectors are the caller's; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/tokenizer.hpp"
#include "train/dpo.hpp"

namespace weft::train {

// Prompt = <|user|>prompt<|end|><|assistant|>; chosen/rejected = text + <|end|>.
// A pair longer than max_seq is cut at the end of its responses (the prompt is
// kept whole); a pair whose prompt leaves fewer than 2 tokens is skipped (counted in
// *skipped). Errors name the file and line.
std::vector<PreferencePair> rlhf_load_pairs(const std::string& path, const data::Tokenizer& tok,
                                            int max_seq, int* skipped = nullptr);

// Rendered prompts ending with <|assistant|>; prompts longer than max_prompt tokens
// are skipped (counted in *skipped).
std::vector<std::vector<std::int32_t>> rlhf_load_prompts(const std::string& path,
                                                         const data::Tokenizer& tok,
                                                         int max_prompt, int* skipped = nullptr);

}  // namespace weft::train
