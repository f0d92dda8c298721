#!/usr/bin/env bash
# Start a throwaway PostgreSQL on loopback for the test suite and print its URL.
# Installs Debian's postgresql if it is missing. Usage: eval "$(scripts/start-test-postgres.sh)"
set -euo pipefail
PORT=${PGPORT_TEST:-54329}
DIR=${PGDATA_TEST:-/tmp/policy-bot-pg}

bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
if [ -z "$(bin_dir)" ] || [ ! -x "$(bin_dir)/postgres" ]; then
  echo "installing postgresql..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
BIN=$(bin_dir)

run_as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if ! run_as_postgres "$BIN/pg_isready" -h 127.0.0.1 -p "$PORT" -q 2>/dev/null; then
  rm -rf "$DIR"
  mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$DIR"
  run_as_postgres "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
  run_as_postgres "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c max_connections=200" start >&2
fi
# Members of one role sign in with a password although everyone else is trusted: tests/test_database_entra.py proves
# that the Entra token provider's password is what PostgreSQL checks. First matching line wins in pg_hba.conf.
HBA="$DIR/data/pg_hba.conf"
if ! grep -q policy_bot_password_role "$HBA"; then
  sed -i '1i host all +policy_bot_password_role 127.0.0.1/32 scram-sha-256' "$HBA"
  run_as_postgres "$BIN/pg_ctl" -D "$DIR/data" reload >&2
fi
echo "export TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:$PORT/postgres"
