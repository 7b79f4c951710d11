# shellcheck shell=bash
# Builds the libFuzzer targets with clang (build/fuzz) and runs each for a
# bounded time. New inputs go to a temporary corpus, never into the repo;
# a crash is copied to tests/fuzz/corpus/<target>/ as a regression input and
# fails the run.
#   run_fuzzers SECONDS_PER_TARGET
run_fuzzers() {
  local seconds="$1" target work rc=0
  printf '==> building fuzz targets (clang, build/fuzz)\n'
  CC=clang-14 CXX=clang++-14 cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DHIE_FUZZ=ON -DHIE_BUILD_TESTS=OFF >/dev/null
  cmake --build build/fuzz -j2 >/dev/null
  for target in fhir_request certificate_der bundle write_bundle audit_entry witness_body http_signature udap_jwt; do
    work=$(mktemp -d /tmp/hie-fuzz.XXXXXX)
    printf '==> fuzzing %s for %ss\n' "$target" "$seconds"
    if ! (cd "$work" && "$OLDPWD/build/fuzz/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 \
          -rss_limit_mb=2048 -print_final_stats=1 "$work" "$OLDPWD/tests/fuzz/corpus/$target" >"$work/log" 2>&1); then
      echo "fuzz_$target FAILED:"
      tail -40 "$work/log"
      for crash in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do
        [[ -e "$crash" ]] && cp "$crash" "tests/fuzz/corpus/$target/" && echo "kept $(basename "$crash") as a regression input"
      done
      rc=1
    else
      grep -E "stat::number_of_executed_units" "$work/log" | sed "s/^/  $target: /" || true
    fi
    rm -rf "$work"
  done
  return "$rc"
}
