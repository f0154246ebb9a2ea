#!/usr/bin/env bash
# Regenerates docs/examples/: the situation report of the built-in case (chile-peru-2025) in
# Spanish and English (PDF), its map.png in both languages, and screenshots of the dashboard
# (the situation page in Spanish, the map page) taken by the browser tests' Playwright setup.
#   scripts/make-examples.sh [PYTHON]     (default: .venv/bin/python; borderflow runs from src/)
# The screenshots need Chromium (scripts/chromium-for-tests.sh); without it the script stops
# with an error after the reports and maps. Images are reduced to 256 colours to stay small.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
OUT=docs/examples
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
bf() { "$PY" -m borderflow "$@"; }

bf run chile-peru-2025 --seed 0 --out "$WORK/run-en" --lang en >/dev/null
bf run chile-peru-2025 --seed 0 --out "$WORK/run-es" --lang es >/dev/null
bf ensemble chile-peru-2025 --members 20 --seed 0 --out "$WORK/ensemble" --lang es >/dev/null
bf compare chile-peru-2025 peru_policy=documented_only peru_policy=corridor --seed 0 \
  --out "$WORK/compare" >/dev/null
for lang in es en; do  # each in a folder of its own: both are a first report
  bf report "$WORK/ensemble" --lang "$lang" --format pdf --compare "$WORK/compare" \
    --out "$WORK/report-$lang/situation-report-$lang.pdf"
  cp "$WORK/report-$lang/situation-report-$lang.pdf" "$OUT/"
done

shrink() {  # shrink SRC DEST: a 256-colour PNG
  "$PY" -c 'import sys; from PIL import Image
Image.open(sys.argv[1]).convert("RGB").quantize(256).save(sys.argv[2], optimize=True)' "$1" "$2"
}
shrink "$WORK/run-en/map.png" "$OUT/map-en.png"
shrink "$WORK/run-es/map.png" "$OUT/map-es.png"

CHROMIUM=$(scripts/chromium-for-tests.sh)
if [ -z "$CHROMIUM" ]; then
  echo "make-examples: no Chromium: dashboard screenshots not regenerated" >&2
  exit 1
fi
rm -rf test-artifacts/screenshots
BORDERFLOW_TEST_CHROMIUM="$CHROMIUM" "$PY" -m pytest -q -p no:cacheprovider \
  tests/test_web_browser.py -k "spanish or map_and_sources" >/dev/null
shrink test-artifacts/screenshots/situation-es.png "$OUT/dashboard-situation-es.png"
shrink test-artifacts/screenshots/map-es.png "$OUT/dashboard-map-es.png"
shrink test-artifacts/screenshots/map.png "$OUT/dashboard-map-en.png"
ls -l "$OUT"
