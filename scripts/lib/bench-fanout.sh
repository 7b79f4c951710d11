# shellcheck shell=bash
# scripts/lib/bench-fanout.sh -- the fan-out benchmark of scripts/bench: one
# querying node whose peer directory lists 5 peer nodes (all on loopback),
# its `GET /exchange/Patient` next to each peer asked directly, with the
# querying node's own certificate, the request the fan-out sends it.
# Source it (do not execute it), after scripts/lib/pg.sh (with the cluster
# started and pg_roles run) and scripts/lib/node.sh:
#
#   source scripts/lib/bench-fanout.sh
#   trap 'bench_fanout_cleanup; pg_stop' EXIT   # the caller's trap
#   bench_fanout NODE_BINARY WORK_DIR SECONDS OUT_MD
#
# bench_fanout issues its certificates in WORK_DIR/pki (creating the network
# CA there if it does not exist yet), keeps its nodes' files in
# WORK_DIR/fanout, creates the databases bench_fanout_q and
# bench_fanout_p1..5, appends a markdown section to OUT_MD (and prints it),
# and stops its nodes before it returns. Each measurement is the median of
# 3 `ab -k -c 1` runs of a bounded number of sequential requests (100 per
# second of SECONDS, 200 to 1000) after a warm-up, each run also cut at
# 2*SECONDS+10 s; latencies come from ab's percentile CSV (microsecond
# resolution). Target: fan-out p50 <= slowest peer's p50 + 5 ms. Also
# reported: the 5 peers asked directly all at once (the load a fan-out puts
# on them), and, from the querying node's audit trail, its slowest peer
# call and the time its peer-call audit entries take.
# bench_fanout_cleanup stops whatever nodes it started; idempotent, never
# fails. Knobs (optional env): HIE_BENCH_FANOUT_TYPE (default Patient; any
# type of config/demo/bundle.json the exchange serves, e.g. Observation);
# HIE_BENCH_FANOUT_CONFIG, one configuration line ("key = value") added to every
# node of the fan-out (e.g. "signatures.sign = false": unsigned requests and answers).

_bf_pids=()

_bf_say() { printf '==> %s\n' "$*"; }
_bf_err() { printf 'bench-fanout: %s\n' "$*" >&2; }

bench_fanout_cleanup() {
  local pid
  for pid in "${_bf_pids[@]}"; do node_stop "$pid" >/dev/null 2>&1 || true; done
  _bf_pids=()
  return 0
}

# _bf_start NODE CONF LOG: node_start (scripts/lib/node.sh), its pid recorded for
# bench_fanout_cleanup; sets _bf_port to the port it got.
# shellcheck disable=SC2154  # node_pid, node_port: set by node_start
_bf_start() {
  node_start "$@" || return 1
  _bf_pids+=("$node_pid")
  _bf_port=$node_port
}

# _bf_issue NODE PKI_DIR NAME ORG [PKI ISSUE ARGS...]: reuses a certificate issued before.
_bf_issue() {
  local node="$1" pki="$2" name="$3" org="$4"
  [[ -f "$pki/$name.crt" ]] && return 0
  node_pki "$node" "$pki" issue --name "$name" --org "$org" "${@:5}"
}

# _bf_ab OUT_CSV AB_ARGS...: one ab run; prints "p50_ms p99_ms bad" (bad = failed + non-2xx + incomplete).
_bf_ab() {
  local csv="$1" out n
  shift
  n="${_bf_n:?}"
  rm -f "$csv"
  out=$(timeout $((2 * _bf_seconds + 30)) ab -q -k -c 1 -t $((2 * _bf_seconds + 10)) -n "$n" -e "$csv" "$@" 2>&1) || true
  if [[ ! -s "$csv" ]]; then
    _bf_err "ab produced no percentiles: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
    printf 'nan nan %s\n' "$n"
    return 0
  fi
  awk -v n="$n" 'NR == FNR { split($0, c, ","); if (c[1] == "50") p50 = c[2]; if (c[1] == "99") p99 = c[2]; next }
       /^Complete requests/ {done = $3} /^Failed requests/ {f = $3} /^Non-2xx responses/ {f += $3}
       END {printf "%.2f %.2f %d\n", p50, p99, f + (n - done)}' "$csv" - <<<"$out"
}

# _bf_median3: reads "p50 p99 bad" lines (3 runs); prints the median p50, median p99 and the total of bad answers.
_bf_median3() {
  local runs p50 p99 bad
  runs=$(cat)
  p50=$(awk '{print $1}' <<<"$runs" | sort -g | sed -n 2p)
  p99=$(awk '{print $2}' <<<"$runs" | sort -g | sed -n 2p)
  bad=$(awk '{s += $3} END {print s + 0}' <<<"$runs")
  printf '%s %s %s\n' "$p50" "$p99" "$bad"
}

# _bf_at_once DIR URL...: one ab per URL, all at once; prints the slowest p50, the slowest p99 and the bad answers.
_bf_at_once() {
  local dir="$1" url k=0 pids=()
  shift
  for url in "$@"; do
    k=$((k + 1))
    _bf_ab "$dir/at-once-$k.csv" -E "$dir/q-client.pem" "${_bf_peer_headers[@]}" "$url" >"$dir/at-once-$k.out" &
    pids+=("$!")
  done
  wait "${pids[@]}" || true
  cat "$dir"/at-once-*.out | awk '{ if ($1 > p50) p50 = $1; if ($2 > p99) p99 = $2; bad += $3 }
    END {printf "%.2f %.2f %d\n", p50, p99, bad}'
  rm -f "$dir"/at-once-*
}

bench_fanout() {
  if [[ $# -ne 4 ]]; then
    _bf_err "usage: bench_fanout NODE_BINARY WORK_DIR SECONDS OUT_MD"
    return 2
  fi
  local node="$1" work="$2" out="$4"
  _bf_seconds="$3"
  _bf_n=$((100 * _bf_seconds))
  ((_bf_n < 200)) && _bf_n=200
  ((_bf_n > 1000)) && _bf_n=1000
  local type="${HIE_BENCH_FANOUT_TYPE:-Patient}"
  local pki="$work/pki" dir="$work/fanout"
  local q_org=urn:oid:2.16.840.1.113883.3.7500 local_org=urn:oid:2.16.840.1.113883.3.7501
  local net=urn:oid:2.16.840.1.113883.3.7000.1 patient=NET-1001
  local peers=(1 2 3 4 5) i name
  local extra=()
  [[ -n "${HIE_BENCH_FANOUT_CONFIG:-}" ]] && extra=("$HIE_BENCH_FANOUT_CONFIG")
  local -A peer_port=() peer_org=()
  mkdir -p "$dir"

  # Certificates: the network CA of scripts/bench, or a new one.
  if [[ ! -f "$pki/network-ca.pem" ]]; then
    node_pki "$node" "$pki" init || return 1
  fi
  _bf_issue "$node" "$pki" fanout-q "$q_org" --ip 127.0.0.1 || return 1
  _bf_issue "$node" "$pki" fanout-local "$local_org" --profile client || return 1
  for i in "${peers[@]}"; do
    peer_org[$i]="urn:oid:2.16.840.1.113883.3.75$((10 + i))"
    _bf_issue "$node" "$pki" "fanout-p$i" "${peer_org[$i]}" --ip 127.0.0.1 || return 1
  done
  cat "$pki/fanout-q.key" "$pki/fanout-q.crt" >"$dir/q-client.pem"
  cat "$pki/fanout-local.key" "$pki/fanout-local.crt" >"$dir/local-client.pem"

  # The peers: own database, the querying node's organization granted, the demo records.
  _bf_say "fan-out: setting up 5 peer nodes and the querying node"
  for i in "${peers[@]}"; do
    name="fanout-p$i"
    node_prepare "$node" "$dir/$name.properties" "$name" "${peer_org[$i]}" "$pki" "bench_fanout_p$i" \
      "db.poolSize = 4" "${extra[@]}" || return 1
    local cfg=(--config "$dir/$name.properties")
    {
      "$node" org add --identifier "$q_org" --name "Fan-out querying node" "${cfg[@]}" &&
        "$node" grant add --org "$q_org" --resource Patient,Observation,DocumentReference --action read,search \
          --purpose TREAT "${cfg[@]}" &&
        "$node" records import config/demo/bundle.json "${cfg[@]}"
    } >"$dir/$name-setup.log" 2>&1 || { _bf_err "setting up $name failed:"; tail -n 20 "$dir/$name-setup.log" >&2; return 1; }
    _bf_start "$node" "$dir/$name.properties" "$dir/$name.log" || return 1
    peer_port[$i]=$_bf_port
  done

  # The querying node: all 5 peers in its directory, and its own clinical system (role local).
  name=fanout-q
  node_prepare "$node" "$dir/$name.properties" "$name" "$q_org" "$pki" bench_fanout_q "db.poolSize = 4" "${extra[@]}" || return 1
  local qcfg=(--config "$dir/$name.properties")
  (
    "$node" org add --identifier "$local_org" --name "Fan-out clinical system" --role local "${qcfg[@]}" &&
      for i in "${peers[@]}"; do
        "$node" org add --identifier "${peer_org[$i]}" --name "Fan-out peer $i" "${qcfg[@]}" &&
          "$node" peer add --org "${peer_org[$i]}" --url "https://127.0.0.1:${peer_port[$i]}" "${qcfg[@]}" || exit 1
      done
  ) >"$dir/$name-setup.log" 2>&1 || { _bf_err "setting up $name failed:"; tail -n 20 "$dir/$name-setup.log" >&2; return 1; }
  _bf_start "$node" "$dir/$name.properties" "$dir/$name.log" || return 1
  local q_port=$_bf_port

  # The request each peer gets from the fan-out (exchange_api.cpp: Poco::URI::encode with "&=+#?/|%").
  local peer_path fanout_path
  if [[ "$type" == Patient ]]; then
    peer_path="/fhir/Patient?identifier=$net%7C$patient&_count=100"
  else
    peer_path="/fhir/$type?patient.identifier=$net%7C$patient&_count=100"
  fi
  fanout_path="/exchange/$type?patient.identifier=$net%7C$patient"
  local purpose=(-H "X-Purpose-Of-Use: TREAT")

  # Every peer must answer: the exchange says 200 also when all peers failed.
  local probe
  probe=$(curl -sS --max-time 10 --cert "$pki/fanout-local.crt" --key "$pki/fanout-local.key" \
    --cacert "$pki/network-ca.pem" "${purpose[@]}" "https://127.0.0.1:$q_port$fanout_path") || {
    _bf_err "the fan-out request failed"
    return 1
  }
  if [[ "$probe" == *'"mode":"outcome"'* || "$probe" != *'"resourceType":"Bundle"'* ]]; then
    _bf_err "the fan-out did not get an answer from every peer: ${probe:0:600}"
    return 1
  fi
  local total
  total=$(sed -n 's/.*"total":\([0-9]*\).*/\1/p' <<<"$probe")

  # Warm-up: connections from ab and the querying node's pooled connections to its peers.
  _bf_say "fan-out: warm-up"
  for i in "${peers[@]}"; do
    timeout 60 ab -q -k -c 1 -n 50 -E "$dir/q-client.pem" "${purpose[@]}" -H "Accept: application/fhir+json" \
      "https://127.0.0.1:${peer_port[$i]}$peer_path" >/dev/null 2>&1 || true
  done
  timeout 60 ab -q -k -c 1 -n 100 -E "$dir/local-client.pem" "${purpose[@]}" \
    "https://127.0.0.1:$q_port$fanout_path" >/dev/null 2>&1 || true

  # Three rounds, each: every peer alone, the 5 peers asked at once, the fan-out (interleaved, so that
  # load from elsewhere on the machine drifts into all of them alike).
  _bf_peer_headers=("${purpose[@]}" -H "Accept: application/fhir+json")
  local -A runs=()
  local round urls=()
  for i in "${peers[@]}"; do urls+=("https://127.0.0.1:${peer_port[$i]}$peer_path"); done
  for round in 1 2 3; do
    _bf_say "fan-out: round $round of 3 ($_bf_n sequential keep-alive requests per measurement)"
    for i in "${peers[@]}"; do
      runs[$i]+="$(_bf_ab "$dir/ab.csv" -E "$dir/q-client.pem" "${_bf_peer_headers[@]}" "${urls[$((i - 1))]}")"$'\n'
    done
    runs[at_once]+="$(_bf_at_once "$dir" "${urls[@]}")"$'\n'
    runs[fanout]+="$(_bf_ab "$dir/ab.csv" -E "$dir/local-client.pem" "${purpose[@]}" \
      "https://127.0.0.1:$q_port$fanout_path")"$'\n'
  done
  rm -f "$dir/ab.csv"
  bench_fanout_cleanup

  local -A p50=() p99=()
  local bad=0 b slowest="" slowest_i="" key
  for key in "${peers[@]}" at_once fanout; do
    read -r "p50[$key]" "p99[$key]" b < <(printf '%s' "${runs[$key]}" | _bf_median3)
    bad=$((bad + b))
  done
  for i in "${peers[@]}"; do
    if [[ -z "$slowest" ]] || awk -v a="${p50[$i]}" -v b="$slowest" 'BEGIN {exit !(a > b)}'; then
      slowest=${p50[$i]}
      slowest_i=$i
    fi
  done
  local f50=${p50[fanout]} f99=${p99[fanout]}

  # Where the fan-out's time goes, from the querying node's audit trail (medians over all its
  # /exchange requests): its latency, its slowest peer call, and the time from the first
  # peer-call audit entry to the query's own entry (the peer-call entries are committed one
  # after the other once every peer has answered).
  local inside
  inside=$(psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 -d "$(pg_uri bench_fanout_q)" <<'SQL' 2>/dev/null || true
WITH e AS (SELECT request_id, action, (leaf::jsonb ->> 'latencyMicros')::bigint AS micros,
                  time::timestamptz AS stamped FROM audit_log_entries),
     q AS (SELECT request_id, micros, stamped FROM e WHERE action = 'query'),
     p AS (SELECT request_id, max(micros) AS slowest, min(stamped) AS first_stamped FROM e
           WHERE action = 'peer-call' GROUP BY request_id HAVING count(*) = 5)
SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY q.micros) / 1000)::numeric, 2),
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY p.slowest) / 1000)::numeric, 2),
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM q.stamped - p.first_stamped) * 1000))::numeric, 2),
       count(*)
FROM q JOIN p USING (request_id);
SQL
  )

  local diff verdict in_req in_slowest in_audit in_count
  diff=$(awk -v f="$f50" -v s="$slowest" 'BEGIN {printf "%+.2f", f - s}')
  verdict=$(awk -v d="$diff" 'BEGIN {print (d + 0 <= 5 ? "met" : "missed")}')
  [[ "$f50" == nan || "$slowest" == nan ]] && verdict="not measured"
  # For the caller's summary of targets.
  bench_fanout_result="$f50 $slowest $diff $verdict"
  local md="$dir/section.md"
  {
    echo
    echo "## Fan-out over 5 peers next to the slowest peer (median of 3 runs)"
    echo
    echo "One querying node with 5 peer nodes in its directory, all on 127.0.0.1, each with its own database in"
    echo "the same PostgreSQL cluster and the demo records; every node on the same cores as the client. \`ab -k -c 1\`,"
    echo "$_bf_n sequential requests per run after a warm-up, \`X-Purpose-Of-Use: TREAT\`. Peers are asked directly with"
    echo "the querying node's certificate and the request the fan-out sends them (\`GET $peer_path\`),"
    echo "one peer at a time and all 5 at once (as the fan-out loads them), interleaved with the fan-out runs;"
    echo "the fan-out is \`GET $fanout_path\` from a \`local\` client (merged total: ${total:-?})."
    echo
    echo "| measurement | p50 ms | p99 ms |"
    echo "|---|---|---|"
    for i in "${peers[@]}"; do
      echo "| peer $i directly (${peer_org[$i]})$([[ $i == "$slowest_i" ]] && echo ', slowest') | ${p50[$i]} | ${p99[$i]} |"
    done
    echo "| the 5 peers directly, all at once (5 clients, one per peer): the slowest | ${p50[at_once]} | ${p99[at_once]} |"
    echo "| fan-out over 5 peers (\`/exchange/$type\`) | $f50 | $f99 |"
    echo
    echo "Slowest peer p50: $slowest ms; fan-out p50: $f50 ms; fan-out p50 − slowest peer p50: $diff ms."
    echo "Target fan-out ≤ slowest peer + 5 ms: **$verdict**."
    if [[ -n "$inside" ]]; then
      read -r in_req in_slowest in_audit in_count <<<"$inside"
      echo "Inside the fan-out (querying node's audit trail, median of $in_count requests): request $in_req ms,"
      echo "slowest peer call $in_slowest ms, first peer-call audit entry to the query's entry $in_audit ms"
      echo "(the 5 peer-call entries are queued together once the last peer answered and share a group commit;"
      echo "the query's own entry is committed after them, before the answer is sent)."
    fi
    echo "Failed, non-2xx or missing answers: $bad."
  } >"$md"
  cat "$md" >>"$out"
  cat "$md"
}
