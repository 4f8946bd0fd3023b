# Shell helpers for the script tests (tests/container/run.sh, tests/guide/run.sh). Source
# after defining `fail MESSAGE`, which must exit non-zero.

now_ms() { date +%s%3N; }

# Polls `cmd...` until it succeeds or `timeout` seconds pass.
wait_until() {
  local timeout=$1
  shift
  local deadline=$(($(now_ms) + timeout * 1000))
  while true; do
    if "$@"; then return 0; fi
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# A telnet client on bash's /dev/tcp: what arrives accumulates in `telnet_buf`.
telnet_open() {  # name, port, host (default 127.0.0.1)
  local fd
  exec {fd}<>"/dev/tcp/${3:-127.0.0.1}/$2" ||
    fail "cannot connect to the gateway's telnet port ${3:-127.0.0.1}:$2"
  eval "telnet_fd_$1=$fd"
  eval "telnet_buf_$1="
}

telnet_send() {  # name, line
  local fd_var="telnet_fd_$1"
  printf '%s\r\n' "$2" >&"${!fd_var}"
}

# Waits until `needle` arrives on `name`'s connection; consumes what was read up to it.
telnet_expect() {  # name, needle, timeout seconds
  telnet_first "$1" "${3:-15}" "$2"
}

# Waits for whichever of the needles arrives first on `name`'s connection; sets
# `telnet_match` to it, `telnet_before` to what arrived before it, and consumes both.
telnet_first() {  # name, timeout seconds, needle...
  local name=$1 timeout=$2
  shift 2
  local fd_var="telnet_fd_$name" buf_var="telnet_buf_$name" chunk status needle best pos
  local deadline=$(($(now_ms) + timeout * 1000))
  local buf="${!buf_var}"
  while true; do
    best="" pos=-1
    for needle in "$@"; do
      if [[ "$buf" == *"$needle"* ]]; then
        local before="${buf%%"$needle"*}"
        if [ "$pos" -lt 0 ] || [ "${#before}" -lt "$pos" ]; then
          pos=${#before}
          best=$needle
        fi
      fi
    done
    if [ -n "$best" ]; then
      telnet_match=$best
      telnet_before=${buf%%"$best"*}
      printf -v "$buf_var" '%s' "${buf#*"$best"}"
      return 0
    fi
    [ "$(now_ms)" -lt "$deadline" ] || fail "telnet $name: none of '$*' within $timeout s; received: $(printf '%q' "$buf")"
    chunk=""
    status=0
    IFS= read -r -t 0.3 -d '' -u "${!fd_var}" chunk || status=$?
    buf+="$chunk"
    if [ "$status" -ne 0 ] && [ "$status" -le 128 ] && [ -z "$chunk" ]; then
      fail "telnet $name: the gateway closed the connection; received: $(printf '%q' "$buf")"
    fi
  done
}
