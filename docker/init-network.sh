#!/usr/bin/env bash
# hie-init-network -- the one-shot init job of docker/compose.yaml.
# DEVELOPMENT ONLY: a development CA, development database passwords.
#
#  1. waits (bounded) until PostgreSQL accepts TCP connections;
#  2. makes a development PKI with `hie-node pki` in the shared volume
#     (/var/lib/hie/pki), unless it holds one already: node certificates for
#     node-a and node-b, a client certificate for node A's clinical system,
#     the audit signing keys; and (re)writes the CRL, valid 90 days;
#  3. `hie-node migrate` of both nodes' databases as the schema owner;
#  4. registers the organizations, peers, grant and demo records (each step
#     skipped when already done, so a second `up` on the same volumes works);
#  5. writes the marker init-complete, which the nodes wait for (hie-wait-init).
# Env: HIE_DB_WAIT seconds to wait for PostgreSQL (default 120).
set -euo pipefail
trap 'exit 143' TERM
trap 'exit 130' INT

pki=/var/lib/hie/pki
marker=$pki/init-complete
bundle=/usr/share/hie-node/demo/bundle.json
org_a=urn:oid:2.16.840.1.113883.3.7100    # Node A Hospital, runs node-a
org_b=urn:oid:2.16.840.1.113883.3.7200    # Node B Clinic, runs node-b
clinic_a=urn:oid:2.16.840.1.113883.3.7101 # Node A's clinical system (role local on node-a)

say() { printf 'hie-init-network: %s\n' "$*" >&2; }
rm -f "$marker"

say "waiting for PostgreSQL at postgres:5432"
wait_s=${HIE_DB_WAIT:-120}
for ((i = 0; ; i++)); do
  # bash's /dev/tcp: no client tools needed. The port opens only once the
  # database's own init scripts have run (they run on a Unix socket).
  if timeout 3 bash -c 'exec 3<>/dev/tcp/postgres/5432' 2>/dev/null; then break; fi
  if ((i >= wait_s)); then
    say "PostgreSQL did not accept connections within ${wait_s} s"
    exit 1
  fi
  sleep 1
done

if [[ ! -f "$pki/root.key" ]]; then
  hie-node pki init --dir "$pki"
fi
issue() {  # issue NAME ARGS...: a certificate, unless the volume has it already
  local name=$1
  shift
  [[ -f "$pki/$name.crt" ]] || hie-node pki issue --dir "$pki" --name "$name" "$@"
}
# The nodes reach each other by their compose service names, which their
# certificates carry as DNS names (peers check them against the peer URL).
issue node-a --org "$org_a" --dns node-a
issue node-b --org "$org_b" --dns node-b
issue clinic-a --org "$clinic_a" --profile client
hie-node pki crl --dir "$pki" --days 90
for node in a b; do
  [[ -f "$pki/audit-$node.pem" ]] || hie-node audit keygen --out "$pki/audit-$node.pem" >"$pki/audit-$node.pub"
done

# The runtime login (hie_app) for everything but migrate; the schema owner
# (hie_owner) for migrate only. Roles and databases: postgres-init.sql.
use_db() {
  export HIE_DB_URI="postgresql://hie_app:hie@postgres/hie_$1"
  export HIE_DB_OWNERURI="postgresql://hie_owner:hie@postgres/hie_$1"
}
org_add() {  # org_add ID NAME [ARGS...]: register, unless registered
  if ! hie-node org list | awk -v id="$1" '$1 == id {found = 1} END {exit !found}'; then
    hie-node org add --identifier "$1" --name "$2" "${@:3}"
  fi
}
for node in a b; do
  use_db "$node"
  say "node-$node: migrate, register Node A Hospital and Node B Clinic"
  hie-node migrate
  org_add "$org_a" "Node A Hospital"
  org_add "$org_b" "Node B Clinic"
done

use_db a
say "node-a: its clinical system (role local) and node-b in its peer directory"
org_add "$clinic_a" "Node A clinical system" --role local
hie-node peer add --org "$org_b" --url https://node-b:8443

use_db b
say "node-b: node-a in its peer directory, a grant to Node A Hospital, the demo records"
hie-node peer add --org "$org_a" --url https://node-a:8443
grants=$(hie-node grant list --org "$org_a")
if [[ "$grants" == "no active grants" ]]; then
  hie-node grant add --org "$org_a" --resource Patient,DocumentReference,Observation \
    --action read,search --purpose TREAT
fi
hie-node records import "$bundle"

touch "$marker"
say "done: the nodes may start"
