#!/usr/bin/env bash
# One-shot job of docker/compose.yaml: a development PKI, both nodes'
# databases migrated, organizations, grants, peers and demo data.
# DEVELOPMENT ONLY.
set -euo pipefail
pki=/var/lib/hie/pki
if [[ ! -f "$pki/root.key" ]]; then
  hie-node pki init --dir "$pki"
  hie-node pki issue --dir "$pki" --name node-a --org urn:oid:2.16.840.1.113883.3.7100 --dns node-a
  hie-node pki issue --dir "$pki" --name node-b --org urn:oid:2.16.840.1.113883.3.7200 --dns node-b
  hie-node pki issue --dir "$pki" --name clinic-a --org urn:oid:2.16.840.1.113883.3.7101 --profile client
  hie-node pki crl --dir "$pki" --days 30
  hie-node audit keygen --out "$pki/audit-a.pem" >"$pki/audit-a.pub"
  hie-node audit keygen --out "$pki/audit-b.pem" >"$pki/audit-b.pub"
fi
for node in a b; do
  export HIE_DB_URI="postgresql://hie_app:hie@postgres/hie_${node}" HIE_DB_OWNERURI="postgresql://hie_owner:hie@postgres/hie_${node}"
  hie-node migrate
  hie-node org add --identifier urn:oid:2.16.840.1.113883.3.7100 --name "Node A Hospital" || true
  hie-node org add --identifier urn:oid:2.16.840.1.113883.3.7200 --name "Node B Clinic" || true
done
export HIE_DB_URI="postgresql://hie_app:hie@postgres/hie_a"
hie-node org add --identifier urn:oid:2.16.840.1.113883.3.7101 --name "Node A clinical system" --role local || true
hie-node peer add --org urn:oid:2.16.840.1.113883.3.7200 --url https://node-b:8443
export HIE_DB_URI="postgresql://hie_app:hie@postgres/hie_b"
hie-node peer add --org urn:oid:2.16.840.1.113883.3.7100 --url https://node-a:8443
hie-node grant add --org urn:oid:2.16.840.1.113883.3.7100 --resource Patient,DocumentReference,Observation \
  --action read,search --purpose TREAT
hie-node records import /usr/share/hie-node/demo/bundle.json
