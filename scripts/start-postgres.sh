#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster on a loopback port for the
# PostgreSQL store's tests (reference-server/pgstore) and prints, on stdout
# and alone, the line CI evals:
#
#   SLOTRUSH_TEST_POSTGRES=postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable
#
# eval "$(scripts/start-postgres.sh)"       start (or find) it; export the line
# scripts/start-postgres.sh DIR             keep the cluster in DIR
# scripts/start-postgres.sh stop [DIR]      stop the cluster in DIR (fast shutdown)
#
# The cluster lives in DIR, by default ${TMPDIR:-/tmp}/slotrush-postgres-PORT
# (a fresh initdb when DIR holds no cluster, a restart when it holds one).
# It listens on 127.0.0.1 only, port PGPORT (default 54329), with trust
# authentication (anyone on this machine may connect as any user: for tests
# only), fsync on, max_connections=200, and its Unix socket in DIR. The
# server log is DIR/server.log. initdb refuses to run as root, so as root the
# script runs initdb and pg_ctl as the user postgres (Debian's package
# creates it) and gives DIR to that user.
#
# Idempotent: when a server already answers on the port, the script only
# prints the line. It needs initdb and pg_ctl: Debian's
# /usr/lib/postgresql/*/bin (apt-get install postgresql), else PATH.
set -euo pipefail

port="${PGPORT:-54329}"
log() { echo "start-postgres: $*" >&2; }

bindir=""
for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
  if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then bindir="$d"; break; fi
done
if [ -z "$bindir" ]; then
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    bindir="$(dirname "$(command -v initdb)")"
  else
    log "initdb and pg_ctl not found in /usr/lib/postgresql/*/bin or PATH (Debian: apt-get install postgresql)"
    exit 1
  fi
fi

# as_owner runs a command as the cluster's owner: postgres when root.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null 2>&1; then
      runuser -u postgres -- "$@"
    else
      su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
  else
    "$@"
  fi
}

line="SLOTRUSH_TEST_POSTGRES=postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"

if [ "${1:-}" = "stop" ]; then
  dir="${2:-${TMPDIR:-/tmp}/slotrush-postgres-$port}"
  if [ -f "$dir/postmaster.pid" ]; then
    as_owner "$bindir/pg_ctl" -D "$dir" -m fast -w stop >&2
  else
    log "no server running in $dir"
  fi
  exit 0
fi

dir="${1:-${TMPDIR:-/tmp}/slotrush-postgres-$port}"

if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2; then
  log "a server already answers on 127.0.0.1:$port"
  echo "$line"
  exit 0
fi

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || { log "running as root and no user postgres to run the server as"; exit 1; }
  chown postgres: "$dir"
  chmod 700 "$dir"
  # The user postgres must be able to reach DIR.
  p="$(dirname "$dir")"
  while [ "$p" != / ]; do
    if ! as_owner test -x "$p"; then
      log "user postgres cannot enter $p: choose a DIR it can reach, or chmod o+x $p"
      exit 1
    fi
    p="$(dirname "$p")"
  done
fi

if [ ! -f "$dir/PG_VERSION" ]; then
  log "initdb in $dir ($bindir)"
  as_owner "$bindir/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C >"$dir.initdb.log" 2>&1 || {
    log "initdb failed:"; cat "$dir.initdb.log" >&2; exit 1
  }
  rm -f "$dir.initdb.log"
  as_owner sh -c "cat >>'$dir/postgresql.conf'" <<EOF

# scripts/start-postgres.sh: a throw-away cluster for tests
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
fsync = on
synchronous_commit = on
full_page_writes = on
logging_collector = off
EOF
fi

log "starting the server in $dir on 127.0.0.1:$port (log $dir/server.log)"
as_owner "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 -o "-p $port" start >&2 || {
  log "pg_ctl start failed; the server log:"; tail -n 30 "$dir/server.log" >&2 || true; exit 1
}
echo "$line"
