#!/usr/bin/env bash
# CI smoke test of `weft demo --quick`: runs the whole pipeline into a fresh temp dir
# and checks exit 0, report.md with the stage table, the eval table rows (base
# always; sft/ppo/dpo rows, or those stages marked "not available in this build"),
# the plots, and that a second run refuses to overwrite. Usage: demo_quick.sh WEFT [ARGS...]
set -u
weft=$1; shift
dir=$(mktemp -d "${TMPDIR:-/tmp}/weft_demo_quick.XXXXXX")
trap 'rm -rf "$dir"' EXIT
run="$dir/run"
start=$(date +%s)
"$weft" demo --quick --out "$run" --no-progress "$@" > "$dir/out.txt" 2>&1
rc=$?
cat "$dir/out.txt"
echo "--- exit code $rc after $(( $(date +%s) - start )) s"
fail() { echo "FAIL: $*"; exit 1; }
((rc == 0)) || fail "weft demo --quick exited $rc"
report="$run/report.md"
[[ -s $report ]] || fail "no $report"
cat "$report"
grep -q '^| base | ' "$report" || fail "report.md has no 'base' eval row"
for stage in sft ppo dpo; do
  if ! grep -q "^| $stage | " "$report"; then
    title=$(case $stage in sft) echo "Supervised fine-tuning";; ppo) echo "RLHF with PPO";; dpo) echo "DPO";; esac)
    grep -q "$title.*not available in this build" "$report" ||
      fail "report.md has neither a '$stage' eval row nor '$title ... not available in this build'"
  fi
done
grep -q 'pretrain_loss.svg' "$report" || fail "no pretraining loss plot in report.md"
[[ -s "$run/pretrain_loss.svg" ]] || fail "no pretrain_loss.svg"
grep -q '^weft chat --model ' "$report" || fail "no weft chat line in report.md"
# `weft eval --reward` from the command line reproduces the demo's in-process sft row
# (24 = the quick demo's eval_max_tokens, src/demo/demo_settings.cpp).
if [[ -s "$run/reward/reward_head.bin" && -s "$run/sft/model.bin" ]]; then
  "$weft" eval --model "$run/sft/model.bin" --tokenizer "$run/tok.json" --data "$run/chat/eval_test.jsonl" \
    --reward "$run/reward" --max-tokens 24 --json --quiet > "$dir/eval_cli.json" 2> "$dir/eval_cli.err" ||
    { cat "$dir/eval_cli.err"; fail "weft eval --reward exited non-zero"; }
  python3 - "$dir/eval_cli.json" "$run/eval.jsonl" <<'PY' || fail "weft eval --reward differs from the demo's sft row"
import json, sys
cli = json.load(open(sys.argv[1]))
rows = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
sft = [r for r in rows if r["label"] == "sft"][0]
print("cli", cli["mean_reward"], cli["token_f1"], "demo", sft["mean_reward"], sft["token_f1"])
assert isinstance(cli["mean_reward"], float)
assert abs(cli["mean_reward"] - sft["mean_reward"]) <= 1e-9 * max(1.0, abs(sft["mean_reward"]))
assert abs(cli["token_f1"] - sft["token_f1"]) <= 1e-12
PY
  if "$weft" eval --model "$run/sft/model.bin" --tokenizer "$run/tok.json" --data "$run/chat/eval_test.jsonl" \
      --reward "$dir/no_such_rm" > "$dir/eval_bad.txt" 2>&1; then
    fail "weft eval --reward with a missing reward model succeeded"
  fi
  grep -q "no reward_head.bin" "$dir/eval_bad.txt" || { cat "$dir/eval_bad.txt"; fail "no clear --reward error"; }
fi
# A second run into the same directory must refuse and leave the report alone.
before=$(sha256sum "$report")
if "$weft" demo --quick --out "$run" --no-progress > "$dir/again.txt" 2>&1; then
  fail "a second run into $run succeeded without --overwrite"
fi
grep -q "already exists" "$dir/again.txt" || { cat "$dir/again.txt"; fail "no 'already exists' message"; }
[[ $(sha256sum "$report") == "$before" ]] || fail "report.md changed"
echo PASS
