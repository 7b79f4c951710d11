# shellcheck shell=bash
# scripts/lib/pg.sh -- private, throwaway PostgreSQL 15 cluster for tests, demos
# and benchmarks. Source it (do not execute it):
#
#   source scripts/lib/pg.sh
#   pg_install_trap          # EXIT -> pg_stop; INT/TERM/HUP -> exit (so EXIT runs)
#   pg_start                 # creates + starts the cluster, exports HIE_PG_*
#   pg_createdb mydb
#   pg_roles && pg_createdb hie hie_owner   # a database as a node expects it
#   psql "$(pg_uri mydb)" -c 'select 1'
#   pg_stop                  # optional: the EXIT trap does it too (idempotent)
#
# If the caller already has its own EXIT trap, skip pg_install_trap and call
# pg_stop from that trap instead (and make INT/TERM exit so EXIT runs).
# Call pg_start in the current shell, not in $(...) or a pipeline: it exports
# variables and pg_stop needs them.
#
# Exports after pg_start:
#   HIE_PG_DIR        base dir (mktemp -d /tmp/hie-pg.XXXXXX); removed by pg_stop
#   HIE_PG_HOST       unix socket directory (== HIE_PG_DIR)
#   HIE_PG_PORT       port (only names the socket file .s.PGSQL.<port>; no TCP)
#   HIE_PG_ADMIN_URI  postgresql://postgres@/postgres?host=<sockdir>&port=<port>
# Functions:
#   pg_start                  create/start the cluster (retries ports); returns 1 on failure
#   pg_stop                   stop (immediate) + remove dir; idempotent, never fails
#   pg_uri DBNAME [USER]      print a libpq URI for DBNAME as USER (default postgres)
#   pg_createdb NAME [OWNER]  CREATE DATABASE NAME [OWNER OWNER] (as superuser postgres)
#   pg_roles                  the database roles (scripts/lib/database-roles.sql)
#   pg_psql [PSQL ARGS...]    psql -X -v ON_ERROR_STOP=1 on the admin URI
#   pg_install_trap           trap pg_stop EXIT; INT/TERM/HUP exit 130/143/129
#
# Security model: the server listens on a unix socket only (listen_addresses='')
# inside a 0700 directory, with 'trust' auth for local socket connections (TCP
# rejected). Only the directory's owner -- and root -- can reach it. As root the
# cluster runs as the 'postgres' system user (runuser -u postgres) and the
# directory is owned by postgres: root-run tests reach it because root bypasses
# directory permissions; other unprivileged users cannot. As non-root everything
# runs as the current user.
#
# Knobs (optional env): HIE_PG_BINDIR (default /usr/lib/postgresql/15/bin),
# HIE_PG_TMPDIR (default /tmp; keep short: socket path must be < 107 chars),
# HIE_PG_QUIET=1 (no "==>" narration on stderr).
#
# Durability: fsync stays on (benchmarks use this cluster); only initdb uses
# --no-sync.

HIE_PG_BINDIR="${HIE_PG_BINDIR:-/usr/lib/postgresql/15/bin}"
_HIE_PG_LIB=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

_hie_pg_say() {
  [[ "${HIE_PG_QUIET:-0}" == 1 ]] || printf '==> %s\n' "$*" >&2
}

_hie_pg_err() {
  printf 'pg.sh: %s\n' "$*" >&2
}

# Run a command as the cluster owner: postgres when we are root, else ourselves.
# cd into the cluster dir first so postgres never complains about root's cwd.
_hie_pg_as_owner() {
  if [[ ${EUID} -eq 0 ]]; then
    (cd "${HIE_PG_DIR:-/}" 2>/dev/null || cd /; exec runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# Percent-encode a string for use inside a URI component.
_hie_pg_urlencode() {
  local s="$1" out="" c i
  local LC_ALL=C
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in
      [A-Za-z0-9._~/-]) out+="$c" ;;
      *) out+=$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf '%s' "$out"
}

pg_uri() {
  if [[ $# -lt 1 || -z "${1:-}" ]]; then
    _hie_pg_err "usage: pg_uri DBNAME [USER]"
    return 2
  fi
  if [[ -z "${HIE_PG_HOST:-}" || -z "${HIE_PG_PORT:-}" ]]; then
    _hie_pg_err "pg_uri: no cluster running (call pg_start first)"
    return 1
  fi
  local db user
  db=$(_hie_pg_urlencode "$1")
  user=$(_hie_pg_urlencode "${2:-postgres}")
  printf 'postgresql://%s@/%s?host=%s&port=%s\n' \
    "$user" "$db" "$(_hie_pg_urlencode "$HIE_PG_HOST")" "$HIE_PG_PORT"
}

pg_psql() {
  if [[ -z "${HIE_PG_ADMIN_URI:-}" ]]; then
    _hie_pg_err "pg_psql: no cluster running (call pg_start first)"
    return 1
  fi
  psql -X -q -v ON_ERROR_STOP=1 -d "$HIE_PG_ADMIN_URI" "$@"
}

pg_createdb() {
  if [[ $# -lt 1 || $# -gt 2 || -z "${1:-}" ]]; then
    _hie_pg_err "usage: pg_createdb NAME [OWNER]"
    return 2
  fi
  # :"name" lets psql quote the identifier (works on stdin, not with -c).
  if [[ $# -eq 2 ]]; then
    pg_psql -v "hie_dbname=$1" -v "hie_owner=$2" <<'SQL'
CREATE DATABASE :"hie_dbname" OWNER :"hie_owner";
SQL
  else
    pg_psql -v "hie_dbname=$1" <<'SQL'
CREATE DATABASE :"hie_dbname";
SQL
  fi
}

# Is a port visibly in use (TCP listener or a socket file in the usual dirs)?
_hie_pg_port_busy() {
  local port="$1" d
  for d in "${HIE_PG_HOST:-}" /tmp /var/run/postgresql /run/postgresql; do
    [[ -n "$d" && -e "$d/.s.PGSQL.$port" ]] && return 0
  done
  if command -v ss >/dev/null 2>&1; then
    [[ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]] && return 0
  fi
  return 1
}

_hie_pg_pick_port() {
  local port tries=0
  while ((tries < 50)); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
    if ! _hie_pg_port_busy "$port"; then
      printf '%s\n' "$port"
      return 0
    fi
    tries=$((tries + 1))
  done
  return 1
}

_hie_pg_log_tail() {
  local log="${HIE_PG_DIR:-}/server.log"
  if [[ -f "$log" ]]; then
    _hie_pg_err "---- last lines of $log ----"
    tail -n 40 "$log" >&2 || true
    _hie_pg_err "----"
  fi
}

pg_start() {
  if [[ -n "${HIE_PG_DIR:-}" && -d "${HIE_PG_DIR}" ]]; then
    _hie_pg_err "pg_start: a cluster is already running in $HIE_PG_DIR (pg_stop first)"
    return 1
  fi
  local b
  for b in initdb pg_ctl postgres; do
    if [[ ! -x "$HIE_PG_BINDIR/$b" ]]; then
      _hie_pg_err "pg_start: $HIE_PG_BINDIR/$b not found; run scripts/install-deps (needs postgresql-15)"
      return 1
    fi
  done
  if [[ ${EUID} -eq 0 ]]; then
    if ! id -u postgres >/dev/null 2>&1; then
      _hie_pg_err "pg_start: running as root but there is no 'postgres' user (install postgresql-15)"
      return 1
    fi
    if ! command -v runuser >/dev/null 2>&1; then
      _hie_pg_err "pg_start: running as root but runuser is missing (install util-linux)"
      return 1
    fi
  fi

  local base
  base=$(mktemp -d "${HIE_PG_TMPDIR:-/tmp}/hie-pg.XXXXXX") || {
    _hie_pg_err "pg_start: mktemp failed"
    return 1
  }
  # Record ownership of the dir at once so pg_stop can clean up a half start.
  export HIE_PG_DIR="$base"
  _HIE_PG_OWNED_DIR="$base"
  export HIE_PG_HOST="$base"
  chmod 0700 "$base"
  if ((${#base} + 20 > 100)); then
    _hie_pg_err "pg_start: socket path under $base would be too long (limit 107); set HIE_PG_TMPDIR shorter"
    pg_stop
    return 1
  fi
  if [[ ${EUID} -eq 0 ]] && ! chown postgres:postgres "$base"; then
    _hie_pg_err "pg_start: cannot chown $base to postgres"
    pg_stop
    return 1
  fi

  local data="$base/data" log="$base/server.log"
  if ! _hie_pg_as_owner "$HIE_PG_BINDIR/initdb" -D "$data" -U postgres \
      --auth-local=trust --auth-host=reject -E UTF8 --locale=C \
      --no-sync --no-instructions >"$base/initdb.log" 2>&1; then
    _hie_pg_err "pg_start: initdb failed:"
    cat "$base/initdb.log" >&2 || true
    pg_stop
    return 1
  fi
  cat >>"$data/postgresql.conf" <<CONF

# ---- hie-node throwaway cluster (scripts/lib/pg.sh) ----
listen_addresses = ''
unix_socket_directories = '$base'
unix_socket_permissions = 0700
max_connections = 200
fsync = on
log_min_messages = warning
CONF

  local attempt port
  for attempt in 1 2 3 4 5; do
    port=$(_hie_pg_pick_port) || {
      _hie_pg_err "pg_start: no free port found"
      break
    }
    _hie_pg_say "starting throwaway PostgreSQL on port $port (socket dir $base)"
    if _hie_pg_as_owner "$HIE_PG_BINDIR/pg_ctl" -D "$data" -l "$log" -w -t 30 \
        -o "-p $port" start >/dev/null 2>"$base/pg_ctl.err"; then
      export HIE_PG_PORT="$port"
      export HIE_PG_ADMIN_URI
      HIE_PG_ADMIN_URI=$(pg_uri postgres postgres)
      return 0
    fi
    _hie_pg_err "pg_start: attempt $attempt on port $port failed: $(tr '\n' ' ' <"$base/pg_ctl.err" 2>/dev/null)"
    # A timed-out start may have left a postmaster behind: stop it before retrying.
    _hie_pg_kill_server
  done
  _hie_pg_log_tail
  pg_stop
  return 1
}

# Stop the postmaster of the current cluster, whatever state it is in.
_hie_pg_kill_server() {
  local dir="${_HIE_PG_OWNED_DIR:-}"
  [[ -n "$dir" ]] || return 0
  local data="$dir/data" pid="" i
  [[ -f "$data/postmaster.pid" ]] || return 0
  pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
  _hie_pg_as_owner "$HIE_PG_BINDIR/pg_ctl" -D "$data" -m immediate -w -t 10 stop \
    >/dev/null 2>&1 || true
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  # Backends of a SIGKILLed postmaster notice its death and exit on their own.
  return 0
}

pg_stop() {
  local dir="${_HIE_PG_OWNED_DIR:-}"
  if [[ -n "$dir" ]]; then
    _hie_pg_kill_server
    # Only ever remove the directory pg_start created.
    case "$dir" in
      */hie-pg.??????) rm -rf -- "$dir" 2>/dev/null || true ;;
    esac
  fi
  unset _HIE_PG_OWNED_DIR HIE_PG_DIR HIE_PG_HOST HIE_PG_PORT HIE_PG_ADMIN_URI
  return 0
}

pg_install_trap() {
  trap 'pg_stop' EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# The database roles of docs/operations.md (hie_runtime, hie_owner, hie_app),
# from scripts/lib/database-roles.sql -- the one copy, which the C++ test
# support reads too. Idempotent.
pg_roles() {
  pg_psql -f "$_HIE_PG_LIB/database-roles.sql"
}
