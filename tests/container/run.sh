#!/usr/bin/env bash
# Container tests (ctest label `container`): the game in Docker, run the way Kubernetes runs
# it: non-root, read-only root filesystem, no capabilities, certificates mounted read-only.
#
#   run.sh images   build holomush, holomush-operator and the test PostgreSQL image (cached)
#   run.sh game     PostgreSQL, migrations, core and gateway on a private network; a telnet
#                   player through the published port; `holomush status`; a backup as the
#                   operator's CronJob takes it; core stopped and started again under the
#                   gateway. Migrations, core, gateway and the backup run as the operator
#                   renders them for its minimal sample (`holomush-operator render`: args,
#                   environment, user, mounts, read-only root), not from a copy here.
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

# The operator's children for its minimal sample, turned into docker flags and args per
# container by rendered.py (in $work/rendered).
render_sample() {
  docker run --rm --read-only \
    -v "$root/k8s-operator/config/samples/holomush_v1alpha1_minimal.yaml:/game.yaml:ro" \
    "$operator_image" render -f /game.yaml --namespace default >"$work/rendered.json" ||
    fail "holomush-operator render failed"
  python3 "$root/tests/container/rendered.py" "$work/rendered.json" "$work" ||
    fail "rendered.py could not map the operator's render"
}

# Runs container NAME of the render as the operator's pod would (`-d`: in the background as
# $prefix-NAME; otherwise to completion); extra docker flags follow NAME.
run_rendered() {
  local name=$1
  shift
  local flags args
  mapfile -d '' flags <"$work/rendered/$name.docker"
  mapfile -d '' args <"$work/rendered/$name.args"
  if [ "${1:-}" = -d ]; then
    containers+=("$prefix-$name")
    set -- --name "$prefix-$name" "$@"
  else
    set -- --rm "$@"
  fi
  docker run --network "$net" --label "$label.pid=$$" "$@" "${flags[@]}" "$image" "${args[@]}"
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

  # `created` is the time of the commit the image names, not of the build: the same tree
  # gives the same labels.
  local revision created want
  for img in "$image" "$operator_image"; do
    revision=$(docker image inspect --format \
      '{{ index .Config.Labels "org.opencontainers.image.revision" }}' "$img")
    created=$(docker image inspect --format \
      '{{ index .Config.Labels "org.opencontainers.image.created" }}' "$img")
    want=$(git -C "$root" log -1 --format=%cI "${revision%-dirty}" 2>/dev/null) ||
      fail "$img names revision $revision, which this checkout does not have"
    [ "$created" = "$want" ] || fail "$img created label '$created', want $want (commit $revision)"
  done
  ok "both images are labelled with their commit's time ($created)"

  docker run --rm --read-only "$operator_image" --help >/dev/null ||
    fail "$operator_image --help failed"
  ok "$operator_image starts (--help)"
}

# What a killed run leaves (a container, its network naming its work directory, certificates
# owned by the image's user there) is removed by the next run's reap_stale; a live run's is
# not.
check_reaping() {
  local dead stale_work live
  sh -c 'exit 0' &
  dead=$!
  wait "$dead"
  stale_work=$(mktemp -d "${TMPDIR:-/tmp}/holomush-container.XXXXXX")
  docker run --rm --user 0 --entrypoint sh -v "$stale_work:/work" "$image" -c \
    "mkdir /work/tls && echo key > /work/tls/key && chown -R $uid:$uid /work/tls"
  docker network create --label "$label.pid=$dead" --label "$label.work=$stale_work" \
    "hmct-$dead-net" >/dev/null
  docker create --name "hmct-$dead-core" --label "$label.pid=$dead" "$image" >/dev/null
  live=$(docker create --label "$label.pid=$$" "$image")
  reap_stale
  if docker container inspect "hmct-$dead-core" >/dev/null 2>&1; then
    fail "a dead run's container survived reap_stale"
  fi
  if docker network inspect "hmct-$dead-net" >/dev/null 2>&1; then
    fail "a dead run's network survived reap_stale"
  fi
  [ ! -e "$stale_work" ] || fail "a dead run's work directory survived reap_stale"
  docker container inspect "$live" >/dev/null 2>&1 || fail "reap_stale removed a live run's container"
  docker rm -f "$live" >/dev/null
  ok "a killed run's container, network and certificates are removed by the next run"
}

run_game() {
  trap cleanup EXIT
  for img in "$image" "$operator_image" "$postgres_image"; do
    docker image inspect "$img" >/dev/null 2>&1 ||
      fail "image $img is missing: run 'run.sh images' (ctest runs container.images first)"
  done
  check_image
  check_reaping

  work=$(mktemp -d "${TMPDIR:-/tmp}/holomush-container.XXXXXX")
  chmod 0755 "$work"
  docker network create --label "$label.pid=$$" --label "$label.work=$work" "$net" >/dev/null
  render_sample
  # The gateway reaches core by the Service name the operator gives it.
  local core_host
  core_host=$(cat "$work/rendered/core.host")

  # Certificates from the image's own `certs init`, owned by its user as a Secret's files
  # are readable by the pod: core and gateway reach each other by these names. The backup
  # volume is writable by that user, as the operator's fsGroup makes it.
  docker run --rm --user 0 --entrypoint sh -v "$work:/work" "$image" -c \
    "holomush certs init --dir /work/tls --san core --san gateway --san $core_host >/dev/null &&
     mkdir /work/backups && chown -R $uid:$uid /work/tls /work/backups" ||
    fail "holomush certs init failed"

  local password=ct-secret
  database_url="postgresql://postgres:$password@postgres:5432/holomush?sslmode=disable"
  # What the rendered containers take from the database Secret.
  export DATABASE_URL="$database_url"
  containers+=("$prefix-postgres")
  docker run -d --name "$prefix-postgres" --network "$net" --network-alias postgres \
    --label "$label.pid=$$" -e POSTGRES_PASSWORD="$password" "$postgres_image" >/dev/null
  pg_up() { docker exec "$prefix-postgres" pg_isready -q -h 127.0.0.1 >/dev/null 2>&1; }
  wait_until 60 pg_up || fail "PostgreSQL did not accept connections within 60 s"
  docker exec "$prefix-postgres" createdb holomush || fail "createdb failed"
  ok "PostgreSQL up"

  # Migrations first, as the operator's init container does.
  run_rendered migrate || fail "the rendered migrate init container failed"
  ok "migrate up, as rendered: $(tr '\0' ' ' <"$work/rendered/migrate.args")"

  local start elapsed
  start=$(now_ms)
  run_rendered core -d --network-alias core --network-alias "$core_host" -p 127.0.0.1::9100 \
    >/dev/null
  wait_until 60 ready_is 200 "$prefix-core" 9100 ||
    fail "core not ready within 60 s: $(cat "$work/body" 2>/dev/null)"
  elapsed=$(($(now_ms) - start))
  ok "core ready $elapsed ms after docker run"

  start=$(now_ms)
  run_rendered gateway -d --network-alias gateway -p 127.0.0.1::4201 -p 127.0.0.1::9101 \
    >/dev/null
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

  # A backup the way the operator's CronJob runs it: pg_dump from the image, verified, its
  # outcome in the termination message the operator reads.
  out=$(run_rendered backup 2>&1) || fail "the rendered backup job exited $?: $out"
  grep -q '"msg":"backup complete"' "$work/rendered/backup.termination-log" ||
    fail "no 'backup complete' in the termination message: $(cat "$work/rendered/backup.termination-log")"
  out=$(docker run --rm --read-only -v "$work/backups:/backups:ro" "$image" \
    backup list --dir=/backups --json 2>&1) || fail "holomush backup list exited $?: $out"
  grep -q '"verified": *true' <<<"$out" || fail "no verified backup listed: $out"
  ok "backup run as the CronJob renders it: pg_dump works, the backup is verified"

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
