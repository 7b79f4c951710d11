# shellcheck shell=bash
# scripts/lib/bench-signatures.sh -- the signed-requests section of scripts/bench:
# the CPU cost of signing and verifying one request and one answer per
# algorithm (bench/signatures_bench --mode micro), then one node serving
# `GET /fhir/Patient/p-ava` to clients on loopback, new connection and
# keep-alive, at 1 and 16 clients: unsigned (the node with signatures.sign =
# false and signatures.requests = off, the clients sending no signature) next
# to signed (the node's defaults: it verifies each request and signs each
# answer; the clients sign each request and verify each answer).
# Source it after scripts/lib/pg.sh (cluster started, pg_roles run) and
# scripts/lib/node.sh:
#
#   bench_signatures NODE_BINARY BENCH_BINARY WORK_DIR SECONDS OUT_MD
#
# It issues its certificates in WORK_DIR/pki (creating the network CA there if
# needed), creates the database bench_signatures, appends a markdown section to
# OUT_MD (and prints it) and stops its node before it returns. Sets
# bench_signatures_cost to "<new-connection c1 p50 difference> <keep-alive c1
# p50 difference>" in ms.

bench_signatures() {
  if [[ $# -ne 5 ]]; then
    printf 'bench-signatures: usage: bench_signatures NODE_BINARY BENCH_BINARY WORK_DIR SECONDS OUT_MD\n' >&2
    return 2
  fi
  local node="$1" bench="$2" work="$3" seconds="$4" out="$5"
  local pki="$work/pki" dir="$work/signatures"
  local node_org=urn:oid:2.16.840.1.113883.3.7600 client_org=urn:oid:2.16.840.1.113883.3.7601
  mkdir -p "$dir"
  [[ -f "$pki/network-ca.pem" ]] || node_pki "$node" "$pki" init || return 1
  [[ -f "$pki/sig-node.crt" ]] || node_pki "$node" "$pki" issue --name sig-node --org "$node_org" --dns localhost --ip 127.0.0.1 || return 1
  [[ -f "$pki/sig-client.crt" ]] || node_pki "$node" "$pki" issue --name sig-client --org "$client_org" --profile client ||
    return 1

  printf '==> signatures: CPU cost per message\n'
  {
    echo "## Signed requests and answers (RFC 9421)"
    echo
    echo "CPU time of one operation (median of 2000, one thread, \`bench/signatures_bench --mode micro\`):"
    echo
    "$bench" --mode micro --iterations 2000 || return 1
    echo
  } >"$dir/section.md"

  node_prepare "$node" "$dir/unsigned.properties" sig-node "$node_org" "$pki" bench_signatures \
    "signatures.sign = false" "signatures.requests = off" "server.threads = 32" || return 1
  node_config "$dir/signed.properties" sig-node "$node_org" "$pki" bench_signatures "$dir/sig-node-audit.pem" \
    "server.threads = 32" || return 1
  local cfg=(--config "$dir/signed.properties")
  {
    "$node" org add --identifier "$client_org" --name "Signing client" "${cfg[@]}" &&
      "$node" grant add --org "$client_org" --resource Patient --action read --purpose TREAT "${cfg[@]}" &&
      "$node" records import config/demo/bundle.json "${cfg[@]}"
  } >"$dir/setup.log" 2>&1 || { printf 'bench-signatures: setup failed:\n' >&2; tail -n 20 "$dir/setup.log" >&2; return 1; }

  {
    echo "One node, \`GET /fhir/Patient/p-ava\` (authorized, audited), clients on the same cores; unsigned: the node"
    echo "with \`signatures.sign = false\`, \`signatures.requests = off\`; signed: the node's defaults, each request signed"
    echo "and each answer verified by the client (\`bench/signatures_bench --mode load\`, $seconds s per run):"
    echo
    echo "| path | connection | clients | requests/s | p50 ms | p99 ms | failed |"
    echo "|---|---|---|---|---|---|---|"
  } >>"$dir/section.md"
  local -A p50=()
  local mode conf signed conn c rps q50 q99 failed
  for mode in unsigned signed; do
    conf="$dir/$mode.properties"
    signed=0
    [[ $mode == signed ]] && signed=1
    node_start "$node" "$conf" "$dir/$mode.log" || return 1
    local port=$node_port pid=$node_pid
    for conn in new keep-alive; do
      for c in 1 16; do
        printf '==> signatures: %s, %s connection, %s clients\n' "$mode" "$conn" "$c"
        # Warm-up (1 s), then the measured run.
        "$bench" --mode load --port "$port" --ca "$pki/network-ca.pem" --cert "$pki/sig-client.crt" \
          --key "$pki/sig-client.key" --node-cert "$pki/sig-node.crt" --clients "$c" --seconds 1 \
          --connection "$conn" --signed "$signed" >/dev/null || return 1
        read -r rps q50 q99 failed < <("$bench" --mode load --port "$port" --ca "$pki/network-ca.pem" \
          --cert "$pki/sig-client.crt" --key "$pki/sig-client.key" --node-cert "$pki/sig-node.crt" --clients "$c" \
          --seconds "$seconds" --connection "$conn" --signed "$signed") || return 1
        printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$mode" "$conn" "$c" "$rps" "$q50" "$q99" "$failed" \
          >>"$dir/section.md"
        p50[$mode-$conn-$c]=$q50
      done
    done
    node_stop "$pid" >/dev/null || true
  done
  local d_new d_ka
  d_new=$(awk -v a="${p50[signed-new-1]}" -v b="${p50[unsigned-new-1]}" 'BEGIN {printf "%.2f", a - b}')
  d_ka=$(awk -v a="${p50[signed-keep-alive-1]}" -v b="${p50[unsigned-keep-alive-1]}" 'BEGIN {printf "%.2f", a - b}')
  bench_signatures_cost="$d_new $d_ka"
  {
    echo
    echo "Cost of signing per request at 1 client (signed p50 − unsigned p50, both sides' signing and verifying"
    echo "included): new connection $d_new ms, keep-alive $d_ka ms."
    echo
  } >>"$dir/section.md"
  tee -a "$out" <"$dir/section.md"
}
