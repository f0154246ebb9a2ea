#!/usr/bin/env bash
# Chromium for the browser tests (tests/test_web_browser.py), from Debian's packages.
#   scripts/chromium-for-tests.sh   prints the browser's executable path on stdout (nothing if
#                                   there is none and it cannot be installed)
# As root it installs Debian's `chromium` package when missing. It never runs
# `playwright install` (no browser downloads from outside the distribution).
set -uo pipefail
log() { echo "chromium-for-tests: $*" >&2; }

find_chromium() {
  local candidate
  for candidate in "${BORDERFLOW_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

main() {
  if find_chromium; then return 0; fi
  if [ "$(id -u)" != 0 ]; then log "no chromium and not root: browser tests will be skipped"; return 0; fi
  log "installing chromium from Debian's packages"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) >&2 \
    || { log "install failed: browser tests will be skipped"; return 0; }
  find_chromium || log "chromium installed but not found: browser tests will be skipped"
  return 0
}

main
