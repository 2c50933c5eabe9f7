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
# A second run into the same directory must refuse and leave the report alone.
before=$(sha256sum "$report")
if "$weft" demo --quick --out "$run" --no-progress > "$dir/again.txt" 2>&1; then
  fail "a second run into $run succeeded without --overwrite"
fi
grep -q "already exists" "$dir/again.txt" || { cat "$dir/again.txt"; fail "no 'already exists' message"; }
[[ $(sha256sum "$report") == "$before" ]] || fail "report.md changed"
echo PASS
