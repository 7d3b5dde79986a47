#!/usr/bin/env bash
# The test suite again, on a real PostgreSQL catalog and an S3 asset store (moto's server, which
# the tests start): the second pass of CI, `make test-postgres` by hand. It runs the tests these
# backends or the workflow sandbox can change, the `backend` and `temporal` lanes (tests/conftest.py).
# Extra arguments go to pytest (e.g. `bash .ci/postgres.sh tests/studio`).
#
# It starts a throwaway cluster in a temp dir, on loopback and a free port, as a non-root user
# (Postgres refuses to run as root), and removes it on exit. Durability is switched off
# (fsync=off): the cluster lives for one test run, and each test creates a database of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
make -s install

pg_bindir() {
  local initdb
  initdb=$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$initdb" ] && dirname "$(readlink -f "$initdb")"
}
BIN=$(pg_bindir || true)
if [ -z "$BIN" ]; then
  echo "postgres.sh: installing Debian's postgresql" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq postgresql > /dev/null
  BIN=$(pg_bindir)
fi

# As root, the server runs as `postgres` (the Debian package's user), made here if it is missing.
if [ "$(id -u)" = 0 ]; then
  PGUSER_OS=postgres
  id -u "$PGUSER_OS" > /dev/null 2>&1 || useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$PGUSER_OS"
  as_pg() { runuser -u "$PGUSER_OS" -- "$@"; }
else
  as_pg() { "$@"; }
fi

# Under /tmp, not $TMPDIR: the server user must be able to reach it (root's TMPDIR may be private).
WORK=$(mktemp -d /tmp/studio-pg.XXXXXX)
PGDATA="$WORK/data"
PORT=$("$PY" -c 'from pipelines.runtime.devserver import free_port; print(free_port())')
[ "$(id -u)" = 0 ] && chown "$PGUSER_OS" "$WORK"

cleanup() {
  as_pg "$BIN/pg_ctl" -D "$PGDATA" -m fast -w stop > /dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

as_pg "$BIN/initdb" -D "$PGDATA" -U studio --auth=trust --encoding=UTF8 --no-locale > "$WORK/initdb.log"
as_pg "$BIN/pg_ctl" -D "$PGDATA" -l "$WORK/server.log" -w -t 60 start -o \
  "-h 127.0.0.1 -p $PORT -k $WORK -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  > /dev/null || { cat "$WORK/server.log" >&2; exit 1; }
"$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U studio studio
echo "postgres.sh: PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT; assets on S3 (moto)"

# This pass also runs every workflow in Temporal's sandbox (off by default for speed), so a
# non-deterministic call in workflow code fails here even on a path no saved history covers.
STUDIO_TEST_DATABASE_URL="postgresql+psycopg://studio@127.0.0.1:$PORT/studio" STUDIO_TEST_ASSETS=s3 STUDIO_WORKFLOW_SANDBOX=1 \
  "$PY" -m pytest -q "$@"
