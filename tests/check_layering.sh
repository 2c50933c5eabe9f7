#!/usr/bin/env bash
# Fails when a file in src/<layer>/ includes a header of a higher layer
# (order from shared/DESIGN.md). Usage: check_layering.sh SRC_DIR
set -euo pipefail
src=${1:?usage: check_layering.sh SRC_DIR}
order=(core sys kernels model parallel data train infer serve plan demo cli)
rank() { local i=0; for l in "${order[@]}"; do [[ $l == "$1" ]] && { echo $i; return; }; i=$((i+1)); done; echo -1; }
bad=0
while IFS= read -r -d '' f; do
  rel=${f#"$src"/}; from=${rel%%/*}; rf=$(rank "$from"); ((rf < 0)) && continue
  while IFS= read -r inc; do
    to=${inc%%/*}; rt=$(rank "$to"); ((rt < 0)) && continue
    if ((rt > rf)); then echo "layering: src/$rel includes \"$inc\" ($from may not depend on $to)"; bad=1; fi
  done < <(grep -oE '^#include "[^"]+"' "$f" | sed -E 's/#include "(.*)"/\1/')
done < <(find "$src" -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.cu' -o -name '*.cuh' \) -print0)
((bad == 0)) && echo "layering: ok"
exit $bad
