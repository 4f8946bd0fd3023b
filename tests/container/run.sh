#!/usr/bin/env bash
# Container tests (ctest label `container`): the game in Docker, run the way Kubernetes runs
# it: non-root, read-only root filesystem, no capabilities, certificates mounted read-only.
#
#   run.sh images   build holomush, holomush-operator and the test PostgreSQL image (cached)
#   run.sh game     PostgreSQL, migrations, core and gateway on a private network; a telnet
#                   player through the published port; `holomush status`; a backup as the
#                   operator's CronJob takes it; core stopped and started again under the
#                   gateway
#
# Docker missing or unreachable is a failure with the reason, never a skip. Every container
# and network carries a label with this script's pid: they are removed on exit, and a later
# run removes what a killed run (ctest timeout) left behind.
set -Eeuo pipefail
# Whatever fails, the last line says what and where.
trap 'echo "tests/container/run.sh: failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR
export LC_ALL=C

root=$(cd "$(dirname "$0")/../.." && pwd)
tag="${HOLOMUSH_IMAGE_TAG:-dev}"
image="holomush:$tag"
operator_image="holomush-operator:$tag"
postgres_image="holomush-test-postgres:$tag"
size_limit_mb="${HOLOMUSH_IMAGE_SIZE_LIMIT_MB:-150}"
uid=10001  # the Dockerfile's user; the operator's runAsUser
label="io.holomush.container-test"

# now_ms, wait_until and the /dev/tcp telnet client.
source "$root/tests/support/shell_helpers.sh"

say() { echo "container: $*"; }
ok() { echo "ok: $*"; }
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
require_docker() {
  command -v docker >/dev/null ||
    fail "the container tests need Docker: no docker command on PATH (install docker.io)"
  local err
  if ! err=$(docker info --format '{{.ServerVersion}}' 2>&1); then
    fail "the container tests need a running Docker engine: docker info says: $(tr "\n" " " <<<"$err")"
  fi
  command -v curl >/dev/null || fail "the container tests need curl (scripts/setup installs it)"
}

# Removes what runs whose process is gone left behind.
reap_stale() {
  local id pid
  for id in $(docker ps -aq --filter "label=$label.pid"); do
    pid=$(docker inspect --format "{{ index .Config.Labels \"$label.pid\" }}" "$id" 2>/dev/null || true)
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then docker rm -f "$id" >/dev/null 2>&1 || true; fi
  done
  for id in $(docker network ls -q --filter "label=$label.pid"); do
    pid=$(docker network inspect --format "{{ index .Labels \"$label.pid\" }}" "$id" 2>/dev/null || true)
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      remove_work "$(docker network inspect --format "{{ index .Labels \"$label.work\" }}" "$id")"
      docker network rm "$id" >/dev/null 2>&1 || true
    fi
  done
}

# Certificates and backups belong to the image's user: they are deleted from a container as
# root.
remove_work() {
  local dir=$1
  case "$dir" in
    */holomush-container.*) ;;
    *) return 0 ;;  # only directories this script made
  esac
  [ -d "$dir" ] || return 0
  docker run --rm --user 0 --entrypoint rm -v "$dir:/work" "$image" -rf /work/tls /work/backups \
    >/dev/null 2>&1 || true
  rm -rf "$dir"
}

run_images() {
  local start
  start=$(date +%s)
  "$root/scripts/build-images" --postgres
  say "images ready in $(($(date +%s) - start)) s"
}

# --- the game ------------------------------------------------------------------------------

prefix="hmct-$$"
net="$prefix-net"
work=""
containers=()

cleanup() {
  local rc=$?
  set +e
  if [ "$rc" -ne 0 ]; then
    for c in "${containers[@]}"; do
      echo "----- docker logs $c (last 60 lines)" >&2
      docker logs --tail 60 "$c" >&2 2>&1
    done
  fi
  [ ${#containers[@]} -eq 0 ] || docker rm -f "${containers[@]}" >/dev/null 2>&1
  docker network rm "$net" >/dev/null 2>&1
  [ -z "$work" ] || remove_work "$work"
  exit "$rc"
}

# Runs a container of ours the way the operator's pods do; extra docker flags, then `--`,
# then the holomush arguments.
run_ours() {
  local name=$1
  shift
  local flags=()
  while [ "$1" != "--" ]; do
    flags+=("$1")
    shift
  done
  shift
  containers+=("$name")
  docker run -d --name "$name" --network "$net" --label "$label.pid=$$" \
    --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges \
    -v "$work/tls:/etc/holomush/tls:ro" -e DATABASE_URL="$database_url" \
    "${flags[@]}" "$image" "$@" >/dev/null
}

host_port() {  # container, container port -> the host port Docker published it on
  docker port "$1" "$2/tcp" | awk -F: 'NR == 1 { print $NF }'
}

http_status() {  # port, path -> status code (000 when nothing answered); body in $work/body
  curl -s -o "$work/body" -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1$2" || true
}

ready_is() {  # want, container, ops port
  local port
  port=$(host_port "$2" "$3") || return 1
  [ -n "$port" ] && [ "$(http_status "$port" /healthz/readiness)" = "$1" ]
}

check_image() {
  local size_mb user leftovers
  size_mb=$(docker image inspect --format '{{.Size}}' "$image" | awk '{ printf "%d", $1 / 1000000 }')
  [ "$size_mb" -le "$size_limit_mb" ] ||
    fail "$image is $size_mb MB, over the $size_limit_mb MB budget"
  ok "$image is $size_mb MB (budget $size_limit_mb MB)"

  for img in "$image" "$operator_image"; do
    user=$(docker image inspect --format '{{.Config.User}}' "$img")
    [ "$user" = "$uid:$uid" ] || fail "$img runs as '$user', want $uid:$uid"
    [ -n "$(docker image inspect --format \
      '{{ index .Config.Labels "org.opencontainers.image.revision" }}' "$img")" ] ||
      fail "$img has no org.opencontainers.image.revision label"
    leftovers=$(docker run --rm --entrypoint sh "$img" -c \
      'for p in gcc g++ cc c++ cmake ninja ccache protoc; do command -v $p; done;
       for d in /src /root/.cache /usr/include/grpcpp; do [ -e $d ] && echo $d; done; true')
    [ -z "$leftovers" ] || fail "$img carries build tools or sources: $leftovers"
  done
  ok "both images run as $uid:$uid and carry no compilers, headers or sources"

  docker run --rm --read-only "$operator_image" --help >/dev/null ||
    fail "$operator_image --help failed"
  ok "$operator_image starts (--help)"
}

run_game() {
  trap cleanup EXIT
  for img in "$image" "$operator_image" "$postgres_image"; do
    docker image inspect "$img" >/dev/null 2>&1 ||
      fail "image $img is missing: run 'run.sh images' (ctest runs container.images first)"
  done
  check_image

  work=$(mktemp -d "${TMPDIR:-/tmp}/holomush-container.XXXXXX")
  chmod 0755 "$work"
  docker network create --label "$label.pid=$$" --label "$label.work=$work" "$net" >/dev/null

  # Certificates from the image's own `certs init`, owned by its user as a Secret's files
  # are readable by the pod: core and gateway reach each other by these names. The backup
  # volume is writable by that user, as the operator's fsGroup makes it.
  docker run --rm --user 0 --entrypoint sh -v "$work:/work" "$image" -c \
    "holomush certs init --dir /work/tls --san core --san gateway >/dev/null &&
     mkdir /work/backups && chown -R $uid:$uid /work/tls /work/backups" ||
    fail "holomush certs init failed"

  local password=ct-secret
  database_url="postgresql://postgres:$password@postgres:5432/holomush?sslmode=disable"
  containers+=("$prefix-postgres")
  docker run -d --name "$prefix-postgres" --network "$net" --network-alias postgres \
    --label "$label.pid=$$" -e POSTGRES_PASSWORD="$password" "$postgres_image" >/dev/null
  pg_up() { docker exec "$prefix-postgres" pg_isready -q -h 127.0.0.1 >/dev/null 2>&1; }
  wait_until 60 pg_up || fail "PostgreSQL did not accept connections within 60 s"
  docker exec "$prefix-postgres" createdb holomush || fail "createdb failed"
  ok "PostgreSQL up"

  # Migrations first, as the operator's init container does.
  docker run --rm --network "$net" --read-only --tmpfs /tmp --cap-drop ALL \
    --label "$label.pid=$$" -e DATABASE_URL="$database_url" "$image" migrate up ||
    fail "holomush migrate up failed"
  ok "migrate up"

  local start elapsed
  start=$(now_ms)
  run_ours "$prefix-core" --network-alias core -p 127.0.0.1::9100 -- \
    core --tls-dir=/etc/holomush/tls
  wait_until 60 ready_is 200 "$prefix-core" 9100 ||
    fail "core not ready within 60 s: $(cat "$work/body" 2>/dev/null)"
  elapsed=$(($(now_ms) - start))
  ok "core ready $elapsed ms after docker run"

  start=$(now_ms)
  run_ours "$prefix-gateway" --network-alias gateway -p 127.0.0.1::4201 -p 127.0.0.1::9101 -- \
    gateway --tls-dir=/etc/holomush/tls --core-addr=core:9000
  wait_until 60 ready_is 200 "$prefix-gateway" 9101 ||
    fail "gateway not ready within 60 s: $(cat "$work/body" 2>/dev/null)"
  elapsed=$(($(now_ms) - start))
  ok "gateway ready $elapsed ms after docker run"

  local c
  for c in "$prefix-core" "$prefix-gateway"; do
    [ "$(docker exec "$c" id -u)" = "$uid" ] || fail "$c runs as uid $(docker exec "$c" id -u)"
    [ "$(docker inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$c")" = true ] ||
      fail "$c has a writable root filesystem"
    if docker exec "$c" touch /probe 2>/dev/null; then fail "$c could write to /"; fi
  done
  ok "core and gateway run as uid $uid on a read-only root filesystem"

  # Two players through the published telnet port: what one says, both see.
  local telnet
  telnet=$(host_port "$prefix-gateway" 4201)
  telnet_open ana "$telnet"
  telnet_open bob "$telnet"
  local who
  for who in ana bob; do
    telnet_expect "$who" "quit                           leave"  # the end of the banner
    telnet_send "$who" "create $who secret-$who"
    telnet_send "$who" "look"
    telnet_expect "$who" "The Nexus"
  done
  telnet_send ana "say hello"
  telnet_expect ana 'You say, "hello"'
  telnet_expect bob 'Ana says, "hello"'
  ok "telnet on host port $telnet: ana and bob log in, bob hears ana say hello"

  local out
  out=$(docker exec "$prefix-gateway" holomush status --core-addr=core:9000 \
    --gateway-addr=127.0.0.1:9002 --tls-dir=/etc/holomush/tls 2>&1) ||
    fail "holomush status in the gateway container exited $?: $out"
  [ "$(grep -c SERVING <<<"$out")" -ge 2 ] || fail "holomush status: want both SERVING: $out"
  ok "holomush status: both SERVING"

  # A backup the way the operator's CronJob runs it: pg_dump from the image, verified.
  out=$(docker run --rm --network "$net" --read-only --tmpfs /tmp --cap-drop ALL \
    --label "$label.pid=$$" -e DATABASE_URL="$database_url" -v "$work/backups:/backups" \
    "$image" backup run --dir=/backups 2>&1) || fail "holomush backup run exited $?: $out"
  out=$(docker run --rm --read-only -v "$work/backups:/backups:ro" "$image" \
    backup list --dir=/backups --json 2>&1) || fail "holomush backup list exited $?: $out"
  grep -q '"verified": *true' <<<"$out" || fail "no verified backup listed: $out"
  ok "backup run in a container: pg_dump works, the backup is verified"

  # Core goes away: the gateway stops being ready (and says why); core returns: it recovers.
  docker stop -t 20 "$prefix-core" >/dev/null
  wait_until 30 ready_is 503 "$prefix-gateway" 9101 ||
    fail "gateway readiness did not turn 503 within 30 s of core stopping"
  ok "core stopped: gateway readiness 503 ($(tr '\n' ' ' <"$work/body"))"
  docker start "$prefix-core" >/dev/null
  wait_until 60 ready_is 200 "$prefix-core" 9100 || fail "core not ready again within 60 s"
  wait_until 60 ready_is 200 "$prefix-gateway" 9101 ||
    fail "gateway readiness did not recover within 60 s of core starting"
  ok "core started again: core and gateway ready"

  # The sessions outlive the core restart (SPEC §6).
  telnet_send ana "say still here"
  telnet_expect ana 'You say, "still here"' 30
  telnet_expect bob 'Ana says, "still here"' 30
  ok "ana and bob keep talking across the core restart"
}

require_docker
reap_stale
case "${1:-}" in
  images) run_images ;;
  game) run_game ;;
  *) fail "usage: $0 images|game" ;;
esac
