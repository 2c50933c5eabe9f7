#!/usr/bin/env bash
# ms_comm_min in metrics.jsonl is the exposed communication of the rank that arrived
# last, not rank 0's wait: rank 1 pauses 1 s before step 3 (--test-fault pause), so
# rank 0's ms_comm at step 3 holds that second while the least over the ranks does not.
# Usage: exposed_comm_check.sh RUN_DIR weft train ARGS... (the run is started here)
set -euo pipefail
run=$1; shift
"$@" --comm-timeout 2 --test-fault pause --test-fault-rank 1 --test-fault-step 3 --out "$run" \
  2>/dev/null
python3 - "$run/metrics.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert all("ms_comm_min" in r for r in rows), "ms_comm_min missing from a dp run's metrics"
for r in rows:
    assert 0 <= r["ms_comm_min"] <= r["ms_comm"] + 1e-9, f"step {r['step']}: min above rank 0's wait"
s3 = rows[2]
assert s3["ms_comm"] >= 800, f"rank 0 should have waited ~1000 ms at step 3, waited {s3['ms_comm']:.0f}"
assert s3["ms_comm_min"] < 0.5 * s3["ms_comm"], (
    f"step 3: least rank waited {s3['ms_comm_min']:.0f} ms, rank 0 {s3['ms_comm']:.0f} ms")
print(f"ok: step 3 rank 0 waited {s3['ms_comm']:.0f} ms, the last rank {s3['ms_comm_min']:.1f} ms")
PY
