#!/usr/bin/env bash
# The operations guide's commands, in the guide's order, against a running game on the
# guide's ports; fails at the first one that does not do what the guide says.
#
#   run.sh dev HOLOMUSH_BINARY   starts `holomush dev` through scripts/run, from the build that
#                                holds HOLOMUSH_BINARY (a throwaway data and config directory)
#   run.sh compose               `docker compose up` of compose.yaml (images from
#                                scripts/build-images --postgres; `docker compose` from the
#                                test tools, tools/compose)
#
# Needs the guide's ports free on this machine: 4201 8080 9000 9002 9100 9101 5432 (ctest
# holds the resource lock holomush_guide_ports). Where the guide leaves something open it is
# said below: `holomush status` for compose runs in the gateway container (where the CLI
# certificate is), the restore goes into a fresh database, and the bare `psql -c` gets its
# server from PGHOST/PGUSER/PGDATABASE.
set -Eeuo pipefail
# Whatever fails, the last line says what and where.
trap 'echo "tests/guide/run.sh: failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR
export LC_ALL=C

root=$(cd "$(dirname "$0")/../.." && pwd)
mode="${1:-}"

say() { echo "guide: $*"; }
ok() { echo "ok: $*"; }
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
source "$root/tests/support/shell_helpers.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/holomush-guide.XXXXXX")
dev_pid=""
project="holomush-guide-$$"
compose=()

cleanup() {
  local rc=$?
  set +e
  if [ -n "$dev_pid" ]; then
    kill -INT "$dev_pid" 2>/dev/null
    wait "$dev_pid" 2>/dev/null
    [ "$rc" -eq 0 ] || { echo "----- holomush dev output" >&2; tail -n 40 "$work/dev.out" >&2; }
  fi
  if [ ${#compose[@]} -gt 0 ]; then
    if [ "$rc" -ne 0 ]; then
      echo "----- docker compose logs (last 40 lines each)" >&2
      "${compose[@]}" logs --tail 40 >&2 2>&1
    fi
    "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

for port in 4201 8080 9000 9002 9100 9101 5432; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    fail "port $port is taken on this machine; the guide's commands need it free"
  fi
done

# --- start the game ------------------------------------------------------------------------

case "$mode" in
  dev)
    holomush="${2:?usage: run.sh dev HOLOMUSH_BINARY}"
    # As root, dev's PostgreSQL runs as `postgres`, which must reach the data directory.
    chmod 0755 "$work"
    # dev's certificates go where `holomush status` looks: this throwaway config directory.
    export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"
    # Through the README's first command, scripts/run, with the preset of the build under
    # test (build/<preset>/cmd/holomush): it checks that build is current, then becomes
    # `holomush dev` (same pid).
    preset=$(basename "$(dirname "$(dirname "$holomush")")")
    [ "$(cd "$(dirname "$holomush")/../.." && pwd)" = "$root/build" ] ||
      fail "$holomush is not build/<preset>/cmd/holomush of this checkout"
    HOLOMUSH_RUN_PRESET="$preset" "$root/scripts/run" --data-dir "$work/data/dev" \
      >"$work/dev.out" 2>&1 &
    dev_pid=$!
    dev_ready() {
      kill -0 "$dev_pid" 2>/dev/null || fail "holomush dev exited: $(tail -n 20 "$work/dev.out")"
      grep -q "HoloMUSH is ready" "$work/dev.out"
    }
    wait_until 180 dev_ready || fail "holomush dev not ready in 180 s: $(tail -n 20 "$work/dev.out")"
    grep -q '`holomush status`' "$work/dev.out" ||
      fail "dev did not print a plain \`holomush status\`: $(grep health: "$work/dev.out")"
    grep -q '`pg_dump -U holomush -h localhost holomush > backup.sql`' "$work/dev.out" ||
      fail "dev did not print the guide's pg_dump line: $(grep database: "$work/dev.out")"
    status_cmd=("$holomush" status)
    ok "holomush dev is up and prints the guide's status and pg_dump lines"
    ;;
  compose)
    tools=$("$root/scripts/build-test-tools" --dir)
    [ -x "$tools/bin/docker-compose" ] || fail "no docker-compose in $tools/bin: run scripts/build-test-tools"
    # `docker compose` finds the plugin through a config directory of its own; the user's
    # ~/.docker stays untouched.
    mkdir -p "$work/docker/cli-plugins"
    ln -s "$tools/bin/docker-compose" "$work/docker/cli-plugins/docker-compose"
    export DOCKER_CONFIG="$work/docker"
    for img in holomush holomush-test-postgres; do
      docker image inspect "$img:${HOLOMUSH_IMAGE_TAG:-dev}" >/dev/null 2>&1 ||
        fail "image $img:${HOLOMUSH_IMAGE_TAG:-dev} is missing: run scripts/build-images --postgres"
    done
    compose=(docker compose --project-directory "$root" -f "$root/compose.yaml" -p "$project")
    "${compose[@]}" up -d --wait --wait-timeout 180 >"$work/up.out" 2>&1 ||
      fail "docker compose up failed: $(tail -n 20 "$work/up.out")"
    status_cmd=("${compose[@]}" exec -T gateway holomush status)
    ok "docker compose up: $("${compose[@]}" ps --services --status running | tr '\n' ' ')"
    ;;
  *) fail "usage: run.sh dev HOLOMUSH_BINARY | run.sh compose" ;;
esac

export PGUSER=holomush PGHOST=localhost PGDATABASE=holomush
guide_psql() { psql -U holomush -h localhost holomush -v ON_ERROR_STOP=1 -X -qAt "$@"; }

# Two players, so there are sessions, events and a listener to find.
telnet_open ana 4201
telnet_open bob 4201
for who in ana bob; do
  telnet_expect "$who" "quit                           leave"
  telnet_send "$who" "create $who secret-$who"
  telnet_send "$who" "look"
  telnet_expect "$who" "The Nexus"
done
telnet_send ana "say hello from the guide"
telnet_expect bob 'Ana says, "hello from the guide"'
ok "two players on telnet localhost 4201"
code=$(curl -s -o "$work/page" -w '%{http_code}' http://localhost:8080/)
[ "$code" = 200 ] || fail "curl http://localhost:8080/: $code"
grep -q '<title>HoloMUSH</title>' "$work/page" || fail "http://localhost:8080/ is not the browser client"
ok "the browser client at http://localhost:8080/"

# --- Health Checks -------------------------------------------------------------------------

for port in 9100 9101; do
  code=$(curl -s -o "$work/body" -w '%{http_code}' http://localhost:$port/healthz/readiness)
  [ "$code" = 200 ] || fail "curl http://localhost:$port/healthz/readiness: $code $(cat "$work/body")"
  code=$(curl -s -o /dev/null -w '%{http_code}' http://localhost:$port/healthz/liveness)
  [ "$code" = 200 ] || fail "curl http://localhost:$port/healthz/liveness: $code"
done
ok "readiness and liveness 200 on 9100 (core) and 9101 (gateway)"

# --- Status Command ------------------------------------------------------------------------

out=$("${status_cmd[@]}" 2>&1) || fail "holomush status exited $?: $out"
[ "$(grep -c SERVING <<<"$out")" -eq 2 ] || fail "holomush status: want core and gateway SERVING: $out"
ok "holomush status: core and gateway SERVING"

# --- Prometheus Metrics --------------------------------------------------------------------

curl -sf http://localhost:9100/metrics >"$work/core.metrics" || fail "curl core /metrics failed"
curl -sf http://localhost:9101/metrics >"$work/gateway.metrics" || fail "curl gateway /metrics failed"
for name in holomush_events_total holomush_sessions_active holomush_grpc_requests_total \
  holomush_grpc_latency_seconds_bucket holomush_alias_rollback_failures_total; do
  grep -q "^$name[{ ]" "$work/core.metrics" || fail "core /metrics has no $name"
done
ok "core /metrics has every metric in the guide's table"
# The alert rules against what these processes export: names, labels, label values.
python3 "$root/tests/alerts/live_metrics.py" --rules "$root/alerts/holomush.rules.yaml" \
  --docs "$root/docs/design/metrics.md" --scrape core="$work/core.metrics" \
  --scrape gateway="$work/gateway.metrics" ||
  fail "the alert rules read series that core or gateway do not export (see above)"
ok "every series the alert rules read from core and gateway is exported, as documented"

# --- PostgreSQL Extensions and Query Performance Monitoring --------------------------------

[ "$(guide_psql -c "SELECT count(*) FROM pg_extension WHERE extname IN ('pg_trgm', 'pg_stat_statements')")" = 2 ] ||
  fail "pg_trgm and pg_stat_statements are not both installed"
[ "$(guide_psql -c "SHOW shared_preload_libraries")" = pg_stat_statements ] ||
  fail "pg_stat_statements is not preloaded"

# Each query of the guide, exactly as printed there; each must run and return rows where it
# must.
query() {  # description, minimum rows, SQL
  local rows
  rows=$(guide_psql -c "$3" | wc -l) || fail "$1: psql failed"
  [ "$rows" -ge "$2" ] || fail "$1: $rows rows, want at least $2"
  ok "$1 ($rows rows)"
}
query "slowest queries" 1 "SELECT
    calls,
    round(total_exec_time::numeric, 2) as total_ms,
    round(mean_exec_time::numeric, 2) as mean_ms,
    round(stddev_exec_time::numeric, 2) as stddev_ms,
    rows,
    query
FROM pg_stat_statements
ORDER BY total_exec_time DESC
LIMIT 10;"
query "high I/O queries" 1 "SELECT
    calls,
    shared_blks_hit + shared_blks_read as total_blocks,
    round(100.0 * shared_blks_hit / nullif(shared_blks_hit + shared_blks_read, 0), 2) as cache_hit_pct,
    query
FROM pg_stat_statements
WHERE shared_blks_hit + shared_blks_read > 0
ORDER BY shared_blks_read DESC
LIMIT 10;"
query "most frequent queries" 1 "SELECT
    calls,
    round(total_exec_time::numeric, 2) as total_ms,
    round(mean_exec_time::numeric, 2) as mean_ms,
    query
FROM pg_stat_statements
ORDER BY calls DESC
LIMIT 10;"
query "reset statistics" 1 "SELECT pg_stat_statements_reset();"

# --- Connection Monitoring -----------------------------------------------------------------

activity=$(guide_psql -F '|' -c "SELECT
    datname,
    usename,
    application_name,
    client_addr,
    state,
    query_start,
    now() - query_start as query_duration
FROM pg_stat_activity
WHERE datname = 'holomush'
ORDER BY query_start;")
grep -q '|holomush-core|' <<<"$activity" || fail "active connections: no holomush-core: $activity"
ok "active connections list core's pool (application_name holomush-core)"
query "connection counts" 2 "SELECT state, count(*)
FROM pg_stat_activity
WHERE datname = 'holomush'
GROUP BY state;"
listeners=$(guide_psql -F '|' -c "SELECT pid, datname, usename, application_name, state, query
FROM pg_stat_activity
WHERE query LIKE 'LISTEN%' OR wait_event_type = 'Client';")
grep -q '|holomush-core-listener|idle|LISTEN holomush_events' <<<"$listeners" ||
  fail "the LISTEN query does not find core's listener: $listeners"
ok "the LISTEN/NOTIFY query finds holomush-core-listener on LISTEN holomush_events"

# --- Index Health and Table Statistics -----------------------------------------------------

query "unused indexes" 0 "SELECT
    schemaname,
    relname as table_name,
    indexrelname as index_name,
    idx_scan,
    pg_size_pretty(pg_relation_size(indexrelid)) as index_size
FROM pg_stat_user_indexes
WHERE idx_scan = 0
ORDER BY pg_relation_size(indexrelid) DESC;"
query "index usage" 1 "SELECT
    relname as table_name,
    round(100.0 * idx_scan / nullif(seq_scan + idx_scan, 0), 2) as index_usage_pct,
    seq_scan,
    idx_scan
FROM pg_stat_user_tables
WHERE seq_scan + idx_scan > 0
ORDER BY seq_scan DESC;"
sizes=$(guide_psql -F '|' -c "SELECT
    relname as table_name,
    pg_size_pretty(pg_total_relation_size(relid)) as total_size,
    pg_size_pretty(pg_relation_size(relid)) as table_size,
    pg_size_pretty(pg_indexes_size(relid)) as index_size,
    n_live_tup as live_rows,
    n_dead_tup as dead_rows
FROM pg_stat_user_tables
ORDER BY pg_total_relation_size(relid) DESC;")
for table in events sessions player_aliases system_aliases; do
  grep -q "^$table|" <<<"$sizes" || fail "table sizes: no $table: $sizes"
done
ok "table sizes list events, sessions, player_aliases and system_aliases"
query "tables needing vacuum" 0 "SELECT
    relname,
    n_dead_tup,
    last_vacuum,
    last_autovacuum
FROM pg_stat_user_tables
WHERE n_dead_tup > 1000
ORDER BY n_dead_tup DESC;"

# --- Backup and Recovery -------------------------------------------------------------------

pg_dump -U holomush -h localhost holomush >"$work/backup.sql" || fail "pg_dump failed"
grep -q '^CREATE TABLE public.events ' "$work/backup.sql" || fail "backup.sql has no events table"
createdb -U holomush -h localhost holomush_restore
psql -U holomush -h localhost holomush_restore -q -v ON_ERROR_STOP=1 <"$work/backup.sql" >/dev/null ||
  fail "psql < backup.sql failed"
count() { psql -U holomush -h localhost "$1" -qAtX -c "SELECT count(*) FROM $2"; }
for table in events players; do
  [ "$(count holomush "$table")" = "$(count holomush_restore "$table")" ] ||
    fail "restore: $table has $(count holomush_restore "$table") rows, want $(count holomush "$table")"
done
ok "pg_dump > backup.sql, psql < backup.sql into a fresh database: same events and players"

# --- Docker Logging ------------------------------------------------------------------------

if [ "$mode" = compose ]; then
  for svc in core gateway; do
    rc=0
    timeout 3 "${compose[@]}" logs -f "$svc" >"$work/$svc.log" 2>&1 || rc=$?
    [ "$rc" -eq 124 ] || fail "docker compose logs -f $svc exited $rc (want it to follow until stopped)"
    grep -q '"msg"' "$work/$svc.log" || fail "docker compose logs -f $svc shows no log lines"
  done
  ok "docker compose logs -f core / gateway follow the JSON logs"
fi

# --- Troubleshooting -----------------------------------------------------------------------

nc -zv localhost 9000 >"$work/nc.out" 2>&1 || fail "nc -zv localhost 9000: $(cat "$work/nc.out")"
pg_isready -h localhost >/dev/null || fail "pg_isready -h localhost failed"
sessions=$(curl -s http://localhost:9100/metrics | grep sessions_active)
grep -q '^holomush_sessions_active 2$' <<<"$sessions" || fail "sessions_active: $sessions"
[ "$(psql -c "SELECT count(*) FROM pg_stat_activity WHERE datname='holomush';" -qAtX)" -ge 2 ] ||
  fail "psql -c: fewer than two connections to holomush"
plan=$(guide_psql -c "EXPLAIN ANALYZE SELECT * FROM events WHERE stream = 'room:123' ORDER BY id DESC LIMIT 100;")
grep -q 'Execution Time' <<<"$plan" || fail "EXPLAIN ANALYZE on events by stream failed: $plan"
ok "nc -zv 9000, pg_isready, sessions_active 2, psql -c, EXPLAIN ANALYZE on events"
# Captured first: `psql | grep -q` could kill psql by SIGPIPE under pipefail.
roles=$(guide_psql -c '\du')
grep -q '^holomush|' <<<"$roles" || fail "psql \\du does not list the holomush role: $roles"
databases=$(guide_psql -c '\l')
grep -q '^holomush|holomush|' <<<"$databases" || fail "psql \\l does not list the holomush database: $databases"
ok "psql \\du lists the holomush role, \\l the holomush database"

# Alias recovery: a player alias the way a failed rollback leaves one, deleted by the guide's
# SQL, is gone for the player at once (no restart).
telnet_send ana "alias gg=say good game"
telnet_expect ana "Alias 'gg' set: say good game"
telnet_send ana "gg"
telnet_expect bob 'Ana says, "good game"'
player_id=$(guide_psql -c "SELECT player_id FROM player_aliases WHERE alias = 'gg'")
[ -n "$player_id" ] || fail "no player_aliases row for gg"
guide_psql -c "DELETE FROM player_aliases WHERE player_id = '$player_id' AND alias = 'gg';"
[ "$(guide_psql -c "SELECT count(*) FROM player_aliases WHERE alias = 'gg'")" = 0 ] ||
  fail "the guide's DELETE left the alias row"
guide_psql -c "SELECT * FROM system_aliases WHERE alias = 'gg';" >/dev/null
# The DELETE reaches core by NOTIFY: until it has, 'gg' may still say "good game".
for attempt in $(seq 1 50); do
  telnet_send ana "gg"
  telnet_first ana 10 "Unknown command" 'You say, "good game"'
  [ "$telnet_match" != "Unknown command" ] || break
  [ "$attempt" -lt 50 ] || fail "after the guide's DELETE, 'gg' still runs the alias"
done
ok "alias recovery: the guide's DELETE removes the alias for the player without a restart"

say "every command of the guide did what the guide says ($mode)"
