#!/usr/bin/env bash
# scripts/testenv's own promises (ctest k8s.testenv): `down` stops exactly the processes its
# `up` started, leaving another environment and look-alike processes running; with
# `--owner PID` the environment goes down by itself once PID exits.
set -Eeuo pipefail
trap 'echo "tests/k8s/testenv_test.sh: failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR
root=$(cd "$(dirname "$0")/../.." && pwd)
testenv="$root/scripts/testenv"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
ok() { echo "ok: $*"; }
# now_ms and wait_until.
source "$root/tests/support/shell_helpers.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/holomush-testenv-test.XXXXXX")
owner=""
decoy=""
cleanup() {
  local rc=$?
  set +e
  "$testenv" down "$work/a" >/dev/null 2>&1
  "$testenv" down "$work/b" >/dev/null 2>&1
  [ -z "$owner" ] || kill "$owner" 2>/dev/null
  [ -z "$decoy" ] || kill "$decoy" 2>/dev/null
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

pids_of() {  # environment directory -> the pids its run/*.pid files name
  local f
  for f in "$1"/run/*.pid; do
    [ -e "$f" ] && awk '{ print $1 }' "$f"
  done
}
alive() { [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)" != Z ]; }
all_alive() {
  local pid
  for pid in "$@"; do alive "$pid" || return 1; done
}
none_alive() {
  local pid
  for pid in "$@"; do ! alive "$pid" || return 1; done
}

sleep 3600 &
owner=$!
"$testenv" up "$work/a" --owner "$owner" >/dev/null
"$testenv" up "$work/b" >/dev/null
mapfile -t a_pids < <(pids_of "$work/a")
mapfile -t b_pids < <(pids_of "$work/b")
# etcd, kube-apiserver, kube-controller-manager (and a's watchdog).
[ "${#a_pids[@]}" -ge 4 ] || fail "a: want at least 4 pid files, got ${#a_pids[@]}"
[ "${#b_pids[@]}" -ge 3 ] || fail "b: want at least 3 pid files, got ${#b_pids[@]}"
all_alive "${a_pids[@]}" "${b_pids[@]}" || fail "a process named in a pid file is not running"
ok "two environments up: ${#a_pids[@]} and ${#b_pids[@]} processes"

# A process that looks like one of ours to anything matching by name.
bash -c 'exec -a kube-apiserver sleep 3600' &
decoy=$!

"$testenv" down "$work/b"
none_alive "${b_pids[@]}" || fail "down left one of its own processes running"
all_alive "${a_pids[@]}" || fail "down of b stopped a process of a"
alive "$decoy" || fail "down stopped a look-alike process it did not start"
[ ! -e "$work/b" ] || fail "down left $work/b behind: $(ls -A "$work/b")"
ok "down stops exactly its own processes and removes its directory"

kill "$owner"
wait "$owner" 2>/dev/null || true
owner=""
wait_until 60 none_alive "${a_pids[@]}" ||
  fail "the owner exited but a's processes still run after 60 s"
wait_until 10 test ! -e "$work/a/run" || fail "the watchdog's down left $work/a/run"
alive "$decoy" || fail "the watchdog stopped a look-alike process"
ok "the owner's exit takes its environment down"
