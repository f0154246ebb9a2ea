#!/usr/bin/env bash
# Run a fixed set of commands into DIR and write DIR/SHA256SUMS: the record a refactor must
# reproduce byte for byte (compare two records with `diff A/SHA256SUMS B/SHA256SUMS`).
# Usage: scripts/snapshot-outputs.sh DIR [BORDERFLOW]   (BORDERFLOW: default .venv/bin/borderflow)
set -euo pipefail
dir=${1:?usage: snapshot-outputs.sh DIR [BORDERFLOW]}
bf=${2:-.venv/bin/borderflow}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
log="$dir/commands.log"
: >"$log"
step() {
  echo "+ $*" | tee -a "$log"
  "$@" >>"$log" 2>&1
}
step "$bf" run --seed 0 --out "$dir/run-default"
step "$bf" run mali --seed 1 --out "$dir/run-mali"
step "$bf" run burundi --seed 1 --out "$dir/run-burundi"
step "$bf" compare chile-peru-2025 peru_policy=documented_only peru_policy=corridor \
  --out "$dir/compare"
step "$bf" ensemble chile-peru-2025 --members 20 --workers 2 --out "$dir/ensemble"
step "$bf" sensitivity chile-peru-2025 --n 8 --workers 2 --out "$dir/sensitivity"
step "$bf" calibrate chile-peru-2023 --particles 10 --generations 1 --predictive 4 --workers 2 \
  --out "$dir/calibrate"
step "$bf" calibrate mali --particles 10 --generations 1 --predictive 4 --workers 2 \
  --out "$dir/calibrate-mali"
step "$bf" backtest chile-peru-2023 --particles 10 --generations 1 --members 4 --workers 2 \
  --out "$dir/backtest"
(cd "$dir" && find . -type f ! -name SHA256SUMS ! -name commands.log -print0 | sort -z \
  | xargs -0 sha256sum >SHA256SUMS)
echo "wrote $dir/SHA256SUMS ($(wc -l <"$dir/SHA256SUMS") files)"
