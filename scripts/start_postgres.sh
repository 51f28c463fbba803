#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1 for the run-store tests.
#
#   eval "$(scripts/start_postgres.sh)"      # sets KERNELWRIGHT_TEST_PG_URL
#   .venv/bin/pytest -m postgres tests/test_store.py
#
# stdout carries only shell assignments, so that `eval` works: the export line and
# KERNELWRIGHT_TEST_PG_STOP, the command that stops the cluster; everything else goes to stderr.
# Installs the Debian `postgresql` package when no server binaries are found (needs root). The
# cluster trusts local connections: test use only.
set -euo pipefail

log() { echo "start_postgres: $*" >&2; }

find_bindir() {
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"
        return
    fi
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$dir" ] && echo "$dir"
}

BINDIR=$(find_bindir || true)
if [ -z "$BINDIR" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        log "PostgreSQL is not installed; run as root or: sudo apt-get install -y postgresql"
        exit 1
    fi
    log "installing postgresql with apt-get"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    BINDIR=$(find_bindir)
fi

# initdb refuses to run as root, so a root caller runs the server as the `postgres` user.
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    as_owner() { runuser -u postgres -- "$@"; }
else
    as_owner() { "$@"; }
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
        || echo $((20000 + RANDOM % 20000))
}
PORT=${KERNELWRIGHT_TEST_PG_PORT:-$(free_port)}
DBNAME=${KERNELWRIGHT_TEST_PG_DB:-kernelwright_test}
ROOT=$(mktemp -d "${TMPDIR:-/tmp}/kernelwright-pg.XXXXXX")
chmod 755 "$ROOT"
[ "$(id -u)" -eq 0 ] && chown postgres: "$ROOT"

as_owner "$BINDIR/initdb" -D "$ROOT/data" -U postgres --auth=trust -E UTF8 --locale=C >"$ROOT/initdb.log" 2>&1 \
    || { cat "$ROOT/initdb.log" >&2; exit 1; }
# Durability settings are off: the cluster is thrown away, and the tests kill clients, not it.
as_owner "$BINDIR/pg_ctl" -D "$ROOT/data" -l "$ROOT/server.log" -w -t 30 \
    -o "-p $PORT -k $ROOT -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >&2 || { cat "$ROOT/server.log" >&2; exit 1; }
"$BINDIR/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
    -c "CREATE DATABASE $DBNAME" >&2

log "$("$BINDIR/postgres" --version) on 127.0.0.1:$PORT, data in $ROOT"
if [ "$(id -u)" -eq 0 ]; then
    STOP="runuser -u postgres -- $BINDIR/pg_ctl -D $ROOT/data stop -m fast >/dev/null && rm -rf $ROOT"
else
    STOP="$BINDIR/pg_ctl -D $ROOT/data stop -m fast >/dev/null && rm -rf $ROOT"
fi
log "stop it with: $STOP"
echo "export KERNELWRIGHT_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:$PORT/$DBNAME"
# For a caller that wants to stop it when done (scripts/test.sh does, on exit).
echo "KERNELWRIGHT_TEST_PG_STOP='$STOP'"
