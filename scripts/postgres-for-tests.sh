#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite, on 127.0.0.1 only.
#   scripts/postgres-for-tests.sh start   prints a database URL on stdout (nothing if impossible)
#   scripts/postgres-for-tests.sh stop    stops it and removes its data
# As root it installs PostgreSQL from Debian's packages when missing. The cluster is private
# (its own data folder and port), so it never touches a system database.
set -uo pipefail
STATE=/tmp/borderflow-test-postgres
PORT=${BORDERFLOW_TEST_PG_PORT:-55432}
log() { echo "postgres-for-tests: $*" >&2; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

start() {
  if [ -z "$(pg_bin)" ]; then
    if [ "$(id -u)" != 0 ]; then log "no PostgreSQL server and not root: PostgreSQL tests will be skipped"; return 0; fi
    log "installing PostgreSQL from Debian's packages"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2 || { log "install failed"; return 0; }
  fi
  local bin; bin=$(pg_bin)
  local as=""
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system postgres
    as="postgres"
  fi
  stop_quiet
  mkdir -p "$STATE" && chmod 755 "$STATE"
  [ -n "$as" ] && chown "$as" "$STATE"
  run_as() { if [ -n "$as" ]; then su "$as" -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
  run_as "$bin/initdb -D $STATE/data -A trust -U postgres --no-sync" >/dev/null 2>&1 || { log "initdb failed"; return 0; }
  run_as "$bin/pg_ctl -D $STATE/data -l $STATE/log -w -t 60 -o '-p $PORT -k $STATE -c listen_addresses=127.0.0.1 -c fsync=off' start" >/dev/null 2>&1 \
    || { log "the server did not start: $(tail -n 3 "$STATE/log" 2>/dev/null)"; return 0; }
  echo "$bin" > "$STATE/bin"; echo "$as" > "$STATE/as"
  echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
}

stop_quiet() {
  [ -f "$STATE/bin" ] || { rm -rf "$STATE"; return 0; }
  local bin as; bin=$(cat "$STATE/bin"); as=$(cat "$STATE/as")
  if [ -n "$as" ]; then su "$as" -s /bin/bash -c "$bin/pg_ctl -D $STATE/data -m immediate stop" >/dev/null 2>&1
  else "$bin/pg_ctl" -D "$STATE/data" -m immediate stop >/dev/null 2>&1; fi
  rm -rf "$STATE"
}

case "${1:-}" in
  start) start ;;
  stop) stop_quiet ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
