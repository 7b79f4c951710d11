# shellcheck shell=bash
# scripts/lib/node.sh -- set up and run hie-node processes for scripts/demo,
# scripts/bench (and scripts/lib/bench-fanout.sh) and scripts/security-check:
# the same steps the integration tests take through tests/support. Source it
# after scripts/lib/pg.sh (do not execute it):
#
#   source scripts/lib/pg.sh; source scripts/lib/node.sh
#   pg_start && pg_roles
#   node_pki "$bin" "$work/pki" init
#   node_pki "$bin" "$work/pki" issue --name node --org "$org" --ip 127.0.0.1
#   node_prepare "$bin" "$work/node.properties" node "$org" "$work/pki" hie
#   node_start "$bin" "$work/node.properties" "$work/node.log"   # sets node_pid, node_port
#   ...
#   node_stop "$node_pid"   # or node_stop_all from the caller's EXIT trap
#
# Functions (all return non-zero, after saying why on stderr, on failure):
#   node_pki BIN DIR SUBCOMMAND [ARGS...]
#       hie-node pki SUBCOMMAND --dir DIR ARGS (init, issue, revoke, crl), quiet;
#       its output is appended to DIR.log and shown on failure.
#   node_config FILE NAME ORG PKI DB AUDIT_KEY [LINE...]
#       writes a node configuration: node.id NAME, organization ORG, HTTPS and
#       admin listeners on 127.0.0.1 at any free port (0), certificate
#       PKI/NAME.crt + .key, trust bundle PKI/network-ca.pem, db.uri as hie_app
#       and db.ownerUri as hie_owner on database DB of the pg.sh cluster,
#       audit.signingKey AUDIT_KEY; then each LINE ("key = value") as given.
#       Relative paths resolve against FILE's directory (as hie-node reads them).
#   node_prepare BIN FILE NAME ORG PKI DB [LINE...]
#       the whole database side of a new node: CREATE DATABASE DB OWNER
#       hie_owner (pg_roles must have run), an audit signing key
#       FILE's dir/NAME-audit.pem, node_config, and hie-node migrate.
#   node_start BIN CONFIG LOG
#       hie-node serve in the background (in this shell: call it directly, not
#       in $(...)), output to LOG, and waits (bounded, 30 s) until it logs its
#       listeners. Sets node_pid, node_port and node_admin_port. LOG is created
#       before the node starts, so the first poll never reads a missing file.
#   node_stop PID
#       SIGTERM, up to 10 s for a clean exit, then SIGKILL; returns the node's
#       exit status (137 when killed).
#   node_stop_all
#       stops every node started by node_start and any other hie-node child of
#       this shell; idempotent, never fails (for EXIT traps).

_hie_node_pids=()

_hie_node_err() { printf 'node.sh: %s\n' "$*" >&2; }

# Is PID a live process (a zombie child counts as gone)?
node_alive() {
  local stat
  [[ -n "${1:-}" ]] && stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  [[ "${stat##*) }" != Z* ]]
}

node_pki() {
  if (($# < 3)); then
    _hie_node_err "usage: node_pki BIN DIR SUBCOMMAND [ARGS...]"
    return 2
  fi
  local bin="$1" dir="$2" sub="$3"
  shift 3
  mkdir -p "$(dirname -- "$dir")"
  if ! "$bin" pki "$sub" --dir "$dir" "$@" >>"$dir.log" 2>&1; then
    _hie_node_err "hie-node pki $sub $* failed:"
    tail -n 20 "$dir.log" >&2
    return 1
  fi
}

node_config() {
  if (($# < 6)); then
    _hie_node_err "usage: node_config FILE NAME ORG PKI DB AUDIT_KEY [LINE...]"
    return 2
  fi
  local file="$1" name="$2" org="$3" pki="$4" db="$5" key="$6" owner_uri app_uri
  shift 6
  app_uri=$(pg_uri "$db" hie_app) && owner_uri=$(pg_uri "$db" hie_owner) || return 1
  {
    printf '%s\n' "node.id = $name" "node.organization = $org" "server.host = 127.0.0.1" \
      "# 0 = any free port; the node logs the one it bound (also for the admin listener)." \
      "server.port = 0" "admin.port = 0" \
      "tls.certificate = $pki/$name.crt" "tls.privateKey = $pki/$name.key" "tls.trustBundle = $pki/network-ca.pem" \
      "# migrate connects as the schema owner; everything else as the runtime role." \
      "db.ownerUri = $owner_uri" "db.uri = $app_uri" "audit.signingKey = $key"
    (($# == 0)) || printf '%s\n' "$@"
  } >"$file"
}

node_prepare() {
  if (($# < 6)); then
    _hie_node_err "usage: node_prepare BIN FILE NAME ORG PKI DB [LINE...]"
    return 2
  fi
  local bin="$1" file="$2" name="$3" org="$4" pki="$5" db="$6" dir
  shift 6
  dir=$(dirname -- "$file")
  pg_createdb "$db" hie_owner || return 1
  "$bin" audit keygen --out "$dir/$name-audit.pem" >"$dir/$name-audit.pub" 2>"$dir/$name-keygen.log" || {
    _hie_node_err "hie-node audit keygen failed: $(cat "$dir/$name-keygen.log")"
    return 1
  }
  node_config "$file" "$name" "$org" "$pki" "$db" "$dir/$name-audit.pem" "$@" || return 1
  "$bin" migrate --config "$file" >"$dir/$name-migrate.log" 2>&1 || {
    _hie_node_err "hie-node migrate ($file) failed:"
    tail -n 20 "$dir/$name-migrate.log" >&2
    return 1
  }
}

# shellcheck disable=SC2034  # node_pid, node_port, node_admin_port are for the caller
node_start() {
  if (($# != 3)); then
    _hie_node_err "usage: node_start BIN CONFIG LOG"
    return 2
  fi
  local bin="$1" conf="$2" log="$3" i line
  node_pid="" node_port="" node_admin_port=""
  # Created here: the background job opens it only once it runs, and the
  # first poll below may come before that.
  : >"$log" || return 1
  "$bin" serve --config "$conf" >>"$log" 2>&1 &
  node_pid=$!
  _hie_node_pids+=("$node_pid")
  for ((i = 0; i < 300; i++)); do
    line=$(grep -m 1 -E ' listening on https://[^ ]*:[0-9]+ ' "$log" || true)
    if [[ -n "$line" ]]; then
      node_port=$(sed -E 's|.* listening on https://[^ ]*:([0-9]+) .*|\1|' <<<"$line")
      node_admin_port=$(sed -nE 's|.* admin listening on http://[^ ]*:([0-9]+) .*|\1|p' "$log" | head -n 1)
      return 0
    fi
    node_alive "$node_pid" || {
      _hie_node_err "hie-node serve ($conf) exited before listening:"
      tail -n 20 "$log" >&2
      return 1
    }
    sleep 0.1
  done
  _hie_node_err "hie-node serve ($conf) did not report 'listening on' within 30 s:"
  tail -n 20 "$log" >&2
  return 1
}

node_stop() {
  local pid="$1" i rc=0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    node_alive "$pid" || break
    sleep 0.1
  done
  if node_alive "$pid"; then
    _hie_node_err "hie-node (pid $pid) ignored SIGTERM for 10 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || rc=$?
  return "$rc"
}

# hie-node processes that are children of this shell (covers a signal that
# arrived between starting a node and recording its pid).
_hie_node_children() {
  local f stat ppid
  for f in /proc/[0-9]*/stat; do
    stat=$(cat "$f" 2>/dev/null) || continue
    [[ "$stat" == *"(hie-node) "* ]] || continue
    read -r _ ppid _ <<<"${stat##*) }"
    [[ "$ppid" == "$$" ]] && printf '%s\n' "${stat%% *}"
  done
  return 0
}

node_stop_all() {
  local pid
  for pid in "${_hie_node_pids[@]}" $(_hie_node_children); do
    node_alive "$pid" && { node_stop "$pid" || true; }
  done
  _hie_node_pids=()
  return 0
}
