#!/usr/bin/env bash
# scripts/build-test-tools' cache (ctest k8s.build-test-tools), on a copy of the script and
# tools/ with a cache of its own, building nothing: the directory is keyed by the tools'
# pins (the same tree, the same key; one go.mod line more, another), a set marked `.complete`
# is reused at once, and a caller that finds another one building waits on the lock, then
# takes the set that one finished.
set -Eeuo pipefail
trap 'echo "tests/k8s/build_test_tools_test.sh: failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR
root=$(cd "$(dirname "$0")/../.." && pwd)

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
ok() { echo "ok: $*"; }
source "$root/tests/support/shell_helpers.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/holomush-tools-test.XXXXXX")
waiter=""
cleanup() {
  local rc=$?
  set +e
  [ -z "$waiter" ] || kill "$waiter" 2>/dev/null
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

mkdir -p "$work/tree/scripts"
cp "$root/scripts/build-test-tools" "$work/tree/scripts/"
cp -r "$root/tools" "$work/tree/tools"
export HOLOMUSH_TOOLS_CACHE="$work/cache"
tool="$work/tree/scripts/build-test-tools"

first=$("$tool" --dir)
[ "$("$tool" --dir)" = "$first" ] || fail "the same tree gave two cache directories"
[ "$(basename "$first")" = "$(basename "$(HOLOMUSH_TOOLS_CACHE=/x "$root/scripts/build-test-tools" --dir)")" ] ||
  fail "a copy of the tree is keyed differently from the tree"
echo "// a changed pin" >>"$work/tree/tools/etcd/go.mod"
[ "$("$tool" --dir)" != "$first" ] || fail "a changed go.mod kept the cache directory"
cp "$root/tools/etcd/go.mod" "$work/tree/tools/etcd/go.mod"
[ "$("$tool" --dir)" = "$first" ] || fail "the restored go.mod is keyed differently"
ok "the cache directory follows the tools' pins: $(basename "$first")"

mkdir -p "$first/bin"
echo "marked by the test" >"$first/.complete"
out=$("$tool") || fail "a complete set was not taken: $out"
[ "$out" = "build-test-tools: up to date in $first" ] || fail "unexpected: $out"
ok "a set marked complete is reused, nothing built"

# Another caller is building: it holds the lock, and the set is not complete yet.
rm "$first/.complete"
exec 8>"$work/cache/.lock"
flock 8
"$tool" 8>&- >"$work/waiter.out" 2>&1 &
waiter=$!
# It has opened the lock file (its next step is to wait on it): past its first check.
opened_lock() { [ -n "$(find "/proc/$waiter/fd" -lname "$work/cache/.lock" 2>/dev/null)" ]; }
wait_until 30 opened_lock || fail "the second caller never reached the lock: $(cat "$work/waiter.out")"
alive() { kill -0 "$waiter" 2>/dev/null; }
alive || fail "the second caller did not wait for the lock: $(cat "$work/waiter.out")"
echo "finished by the other caller" >"$first/.complete"
exec 8>&-
wait "$waiter" || fail "the waiting caller failed: $(cat "$work/waiter.out")"
waiter=""
grep -qx "build-test-tools: up to date in $first (built by another caller)" "$work/waiter.out" ||
  fail "the waiting caller did not take the finished set: $(cat "$work/waiter.out")"
[ -z "$(find "$work/cache" -maxdepth 1 -name '*.partial.*')" ] || fail "a partial build was started"
ok "a second caller waits on the lock and takes the set the first finished"
