#!/bin/sh
# Makes a cluster on first start, then runs postgres in the foreground as the postgres user.
# POSTGRES_PASSWORD set: password (scram) for connections over the network; unset: trust.
# POSTGRES_USER names the superuser (default postgres); POSTGRES_DB, when set, is created.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
user="${POSTGRES_USER:-postgres}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -n "${POSTGRES_PASSWORD:-}" ]; then
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    initdb -D "$PGDATA" -U "$user" -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 --pwfile="$pwfile" >/dev/null
    rm -f "$pwfile"
    method=scram-sha-256
  else
    initdb -D "$PGDATA" -U "$user" -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=trust >/dev/null
    method=trust
  fi
  {
    echo "host all all 0.0.0.0/0 $method"
    echo "host all all ::/0 $method"
  } >>"$PGDATA/pg_hba.conf"
  if [ -n "${POSTGRES_DB:-}" ]; then
    # Single-user mode: no server, no port, before anyone can connect.
    echo "CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$user\"" |
      postgres --single -D "$PGDATA" postgres >/dev/null
  fi
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
