#!/usr/bin/env bash
# Entrypoint of docker/postgres.Dockerfile (runs as the user postgres).
# On an empty PGDATA: initdb (local connections: peer; TCP: scram-sha-256 with
# a password, from any address -- the port is meant for the compose network
# only, never published), then every /docker-entrypoint-initdb.d/*.sql once,
# against a server on the Unix socket only. Then runs PostgreSQL in the
# foreground, listening on all addresses.
set -euo pipefail
: "${PGDATA:?}"
if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
  initdb -D "$PGDATA" -U postgres -E UTF8 --locale=C --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  {
    echo "listen_addresses = '*'"
    echo "password_encryption = 'scram-sha-256'"
  } >>"$PGDATA/postgresql.conf"
  {
    echo "host all all 0.0.0.0/0 scram-sha-256"
    echo "host all all ::/0 scram-sha-256"
  } >>"$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w -t 60 start >/dev/null
  shopt -s nullglob
  for f in /docker-entrypoint-initdb.d/*.sql; do
    echo "hie-postgres-entrypoint: running $f" >&2
    psql -X -q -v ON_ERROR_STOP=1 -U postgres -d postgres -f "$f"
  done
  pg_ctl -D "$PGDATA" -m fast -w -t 60 stop >/dev/null
  echo "hie-postgres-entrypoint: database initialized" >&2
fi
exec postgres -D "$PGDATA" "$@"
