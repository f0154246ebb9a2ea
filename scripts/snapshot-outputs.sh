#!/usr/bin/env bash
# Run a fixed set of commands into DIR and write DIR/SHA256SUMS: the record a refactor must
# reproduce byte for byte (compare two records with `diff A/SHA256SUMS B/SHA256SUMS`); JSON
# records are hashed with the output folder and the checkout's path replaced.
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
# Records name the folders they were made in (the output folder, the checkout): hash them with
# those replaced, so that two checkouts or two output folders can be compared.
root=$(cd "$(dirname "$0")/.." && pwd)
(cd "$dir" && find . -type f ! -name SHA256SUMS ! -name commands.log | sort | while read -r f; do
  case "$f" in
    *.json) sum=$(sed "s#$dir#OUT#g; s#$root#REPO#g" "$f" | sha256sum | cut -d' ' -f1) ;;
    *) sum=$(sha256sum <"$f" | cut -d' ' -f1) ;;
  esac
  echo "$sum  $f"
done >SHA256SUMS)
echo "wrote $dir/SHA256SUMS ($(wc -l <"$dir/SHA256SUMS") files)"
