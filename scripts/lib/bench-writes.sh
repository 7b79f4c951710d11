# shellcheck shell=bash
# scripts/lib/bench-writes.sh -- the FHIR writes section of scripts/bench: one
# node taking transaction Bundles (POST /fhir, X-Purpose-Of-Use: HOPERAT) of 1
# and of 50 new resources of the demo's shape from an organization with role
# local, at 1 and 8 clients on keep-alive mTLS connections
# (bench/writes_bench --mode load), next to `hie-node records import` of the
# same resources (new ids) and next to pgbench committing one multi-row INSERT
# of those 50 resources per transaction into a scratch table.
# Source it after scripts/lib/pg.sh (cluster started, pg_roles run) and
# scripts/lib/node.sh:
#
#   bench_writes NODE_BINARY BENCH_BINARY WORK_DIR SECONDS OUT_MD
#
# It issues its certificates in WORK_DIR/pki (creating the network CA there if
# needed), creates the database bench_writes, appends a markdown section to
# OUT_MD (and prints it) and stops its node before it returns. Sets
# bench_writes_ratio to "<ratio c1> <met|missed> <ratio c8> <met|missed>": the
# 50-resource transactions' resources/s over records import's.
# Knob (optional env): HIE_BENCH_WRITES_IMPORT, resources per import file
# (default 5000).

_bw_say() { printf '==> writes: %s\n' "$*"; }

# _bw_ns: nanoseconds since the epoch.
_bw_ns() { date +%s%N; }

# shellcheck disable=SC2154,SC2034  # node_pid, node_port: set by node_start; bench_writes_ratio: for the caller
bench_writes() {
  if [[ $# -ne 5 ]]; then
    printf 'bench-writes: usage: bench_writes NODE_BINARY BENCH_BINARY WORK_DIR SECONDS OUT_MD\n' >&2
    return 2
  fi
  local node="$1" bench="$2" work="$3" seconds="$4" out="$5"
  local pki="$work/pki" dir="$work/writes"
  local node_org=urn:oid:2.16.840.1.113883.3.7700 client_org=urn:oid:2.16.840.1.113883.3.7701
  local import_n="${HIE_BENCH_WRITES_IMPORT:-5000}"
  [[ "$import_n" =~ ^[0-9]+$ && "$import_n" -ge 50 ]] || {
    printf 'bench-writes: HIE_BENCH_WRITES_IMPORT must be a whole number >= 50\n' >&2
    return 2
  }
  mkdir -p "$dir"
  [[ -f "$pki/network-ca.pem" ]] || node_pki "$node" "$pki" init || return 1
  [[ -f "$pki/wr-node.crt" ]] || node_pki "$node" "$pki" issue --name wr-node --org "$node_org" --dns localhost --ip 127.0.0.1 || return 1
  [[ -f "$pki/wr-client.crt" ]] || node_pki "$node" "$pki" issue --name wr-client --org "$client_org" --profile client ||
    return 1
  node_prepare "$node" "$dir/node.properties" wr-node "$node_org" "$pki" bench_writes "server.threads = 32" || return 1
  local cfg=(--config "$dir/node.properties")
  {
    "$node" org add --identifier "$client_org" --name "Writing clinical system" --role local "${cfg[@]}" &&
      "$node" records import config/demo/bundle.json "${cfg[@]}"
  } >"$dir/setup.log" 2>&1 || { printf 'bench-writes: setup failed:\n' >&2; tail -n 20 "$dir/setup.log" >&2; return 1; }

  # --- The node: transactions of 1 and 50 resources at 1 and 8 clients. ----------------------
  node_start "$node" "$dir/node.properties" "$dir/node.log" || return 1
  local port=$node_port pid=$node_pid
  local -A rows=()
  local n c tps rps q50 q99 failed
  {
    echo "## FHIR writes: transactions next to records import and pgbench"
    echo
    echo "One node (\`server.threads = 32\`, other settings default), its own clinical system (an organization with"
    echo "\`--role local\`) on the same cores POSTing transaction Bundles to \`/fhir\` with \`X-Purpose-Of-Use: HOPERAT\`, each"
    echo "client one after another on its own keep-alive mTLS connection with TCP_NODELAY (as curl sets it;"
    echo "\`bench/writes_bench --mode load\`, $seconds s per"
    echo "run after a 1 s warm-up). Every transaction writes new resources (\`PUT Type/id\`, ids unique per client and"
    echo "transaction, so each is version 1): the demo bundle's entries in order, a Patient then its Encounter,"
    echo "Condition, AllergyIntolerance, MedicationStatement, 3 Observations and 2 DocumentReferences (0.3 to 0.5 kB"
    echo "each), so 50 resources = 5 new patients with 9 resources each; 1 resource = a new Patient. Each resource is"
    echo "one row in \`fhir_resources\` and one in \`fhir_resource_history\` (plus \`patient_identifiers\` rows for a"
    echo "Patient); each transaction is one audit entry (synchronous commit)."
    echo
    echo "| writer | resources per transaction | clients | transactions/s | resources/s | p50 ms | p99 ms | failed |"
    echo "|---|---|---|---|---|---|---|---|"
  } >"$dir/section.md"
  for n in 1 50; do
    for c in 1 8; do
      _bw_say "transactions of $n, $c clients"
      "$bench" --mode load --bundle config/demo/bundle.json --resources "$n" --tag "u$n-$c" --port "$port" \
        --ca "$pki/network-ca.pem" --cert "$pki/wr-client.crt" --key "$pki/wr-client.key" --clients "$c" \
        --seconds 1 >/dev/null || return 1
      read -r tps rps q50 q99 failed < <("$bench" --mode load --bundle config/demo/bundle.json --resources "$n" \
        --tag "t$n-$c" --port "$port" --ca "$pki/network-ca.pem" --cert "$pki/wr-client.crt" \
        --key "$pki/wr-client.key" --clients "$c" --seconds "$seconds") || return 1
      printf '| hie-node POST /fhir transaction | %s | %s | %s | %s | %s | %s | %s |\n' "$n" "$c" "$tps" "$rps" "$q50" \
        "$q99" "$failed" >>"$dir/section.md"
      rows[$n-$c]=$rps
    done
  done
  # The same at 1 client without TCP_NODELAY: a body over one TLS record (16 kB) leaves in two, the second
  # held by Nagle until the node's delayed ACK of the first.
  _bw_say "transactions of 50, 1 client, without TCP_NODELAY"
  read -r tps rps q50 q99 failed < <("$bench" --mode load --bundle config/demo/bundle.json --resources 50 \
    --tag "d50-1" --port "$port" --ca "$pki/network-ca.pem" --cert "$pki/wr-client.crt" \
    --key "$pki/wr-client.key" --clients 1 --seconds "$seconds" --nodelay 0) || return 1
  printf '| hie-node POST /fhir transaction, client without TCP_NODELAY | 50 | 1 | %s | %s | %s | %s | %s |\n' "$tps" \
    "$rps" "$q50" "$q99" "$failed" >>"$dir/section.md"
  node_stop "$pid" >/dev/null || true

  # --- records import of the same resources (new ids), the node stopped. ----------------------
  # One file of import_n resources (median of 3 files, each new data), then files of 50 one after another.
  local i t0 t1 big_rates=() small_files=10
  for i in 1 2 3; do
    "$bench" --mode import-file --bundle config/demo/bundle.json --resources "$import_n" --tag "imp$i" \
      --out "$dir/import-$i.json" || return 1
  done
  for ((i = 1; i <= small_files; i++)); do
    "$bench" --mode import-file --bundle config/demo/bundle.json --resources 50 --tag "imq$i" \
      --out "$dir/import50-$i.json" || return 1
  done
  for i in 1 2 3; do
    _bw_say "records import of $import_n resources ($i of 3)"
    t0=$(_bw_ns)
    "$node" records import "$dir/import-$i.json" "${cfg[@]}" >>"$dir/import.log" 2>&1 || {
      printf 'bench-writes: records import failed:\n' >&2
      tail -n 20 "$dir/import.log" >&2
      return 1
    }
    t1=$(_bw_ns)
    big_rates+=("$(awk -v n="$import_n" -v ns="$((t1 - t0))" 'BEGIN {printf "%.0f", n / (ns / 1e9)}')")
  done
  local import_rate
  import_rate=$(printf '%s\n' "${big_rates[@]}" | sort -n | sed -n 2p)
  _bw_say "records import of $small_files files of 50 resources, one after another"
  t0=$(_bw_ns)
  for ((i = 1; i <= small_files; i++)); do
    "$node" records import "$dir/import50-$i.json" "${cfg[@]}" >>"$dir/import.log" 2>&1 || {
      printf 'bench-writes: records import failed:\n' >&2
      tail -n 20 "$dir/import.log" >&2
      return 1
    }
  done
  t1=$(_bw_ns)
  local small_rate small_ms
  small_rate=$(awk -v n="$((small_files * 50))" -v ns="$((t1 - t0))" 'BEGIN {printf "%.0f", n / (ns / 1e9)}')
  small_ms=$(awk -v f="$small_files" -v ns="$((t1 - t0))" 'BEGIN {printf "%.1f", ns / 1e6 / f}')
  {
    printf '| hie-node records import, one file of %s resources (median of 3 files, whole command) | %s | 1 | — | %s | — | — | 0 |\n' \
      "$import_n" "$import_n" "$import_rate"
    printf '| hie-node records import, %s files of 50 one after another (whole command, %s ms each) | 50 | 1 | — | %s | — | — | 0 |\n' \
      "$small_files" "$small_ms" "$small_rate"
  } >>"$dir/section.md"

  # --- pgbench: the same 50 resources in one multi-row INSERT per transaction. -----------------
  psql -X -q -v ON_ERROR_STOP=1 -d "$(pg_uri bench_writes)" \
    -c "CREATE TABLE pgbench_fhir (LIKE fhir_resources INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)" \
    -c "CREATE SEQUENCE pgbench_fhir_seq" >/dev/null || return 1
  "$bench" --mode pgbench-script --bundle config/demo/bundle.json --resources 50 --out "$dir/pgbench.sql" || return 1
  local -A pg=()
  for c in 1 8; do
    _bw_say "pgbench, one INSERT of 50 rows per transaction, $c clients"
    tps=$("$HIE_PG_BINDIR/pgbench" -n -c "$c" -j "$((c < 2 ? 1 : 2))" -T "$seconds" -f "$dir/pgbench.sql" \
      "$(pg_uri bench_writes)" 2>"$dir/pgbench-$c.err" | awk '/^tps/ {print int($3)}')
    [[ -n "$tps" ]] || { printf 'bench-writes: pgbench failed:\n' >&2; tail -n 20 "$dir/pgbench-$c.err" >&2; return 1; }
    pg[$c]=$((tps * 50))
    printf '| pgbench, one INSERT of the 50 resources into a scratch table like fhir_resources | 50 | %s | %s | %s | — | — | 0 |\n' \
      "$c" "$tps" "$((tps * 50))" >>"$dir/section.md"
  done

  local r1 r8
  r1=$(awk -v a="${rows[50-1]}" -v b="$import_rate" 'BEGIN {printf "%.2f", a / b}')
  r8=$(awk -v a="${rows[50-8]}" -v b="$import_rate" 'BEGIN {printf "%.2f", a / b}')
  local v1 v8
  v1=$(awk -v r="$r1" 'BEGIN {print (r >= 0.5) ? "met" : "missed"}')
  v8=$(awk -v r="$r8" 'BEGIN {print (r >= 0.5) ? "met" : "missed"}')
  {
    echo
    echo "The import rows are the whole \`hie-node records import FILE\` command as a user runs it (process start,"
    echo "reading and checking the bundle, one database transaction, exit), with the node stopped; its files hold the"
    echo "same resources as the transactions (same generator, \`bench/writes_bench --mode import-file\`, other ids). The"
    echo "pgbench rows insert 50 resources (the same JSON) into one table only; the node writes each resource twice"
    echo "(current row and history row) plus the identifiers, and an audit entry per transaction."
    echo
    echo "| target | measured | verdict |"
    echo "|---|---|---|"
    echo "| 50-resource transactions ≥ 0.5× the rows/s of records import, 1 client | ${rows[50-1]} vs $import_rate resources/s = $r1× | $v1 |"
    echo "| 50-resource transactions ≥ 0.5× the rows/s of records import, 8 clients | ${rows[50-8]} vs $import_rate resources/s = $r8× | $v8 |"
    echo "| 50-resource transactions next to pgbench's 50-row INSERT (reported, no target) | c1 ${rows[50-1]} vs ${pg[1]}, c8 ${rows[50-8]} vs ${pg[8]} rows/s | — |"
    echo
  } >>"$dir/section.md"
  bench_writes_ratio="$r1 $v1 $r8 $v8"
  tee -a "$out" <"$dir/section.md"
}
