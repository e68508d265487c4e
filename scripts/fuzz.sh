#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -DVIGIL_FUZZ=ON) and runs each for N minutes (default 5),
# one after the other, over a persistent corpus in build-fuzz/long-corpus/<target> (seeded from
# fuzz_seed_gen when the target has none yet). Prints executions, exec/s, corpus growth and
# findings.
#   scripts/fuzz.sh [minutes] [target...]
#   targets: decode_packet decode_frame membership health_codec config http_query
# Crash/leak/timeout inputs land in build-fuzz/findings/; copy each into
# test/fuzz/regressions/<target>/ (ctest replays them) and add a unit test for the bug.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-5}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(decode_packet decode_frame membership health_codec config
  http_query)
build=${VIGIL_FUZZ_BUILD:-build-fuzz}

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DVIGIL_FUZZ=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzz_seed_gen $(printf 'fuzz_%s ' "${targets[@]}")

corpus="$build/long-corpus"
findings="$build/findings"
mkdir -p "$findings" "$corpus"
"$build/test/fuzz/fuzz_seed_gen" "$build/seed-corpus" >/dev/null
for t in "${targets[@]}"; do
  if [ ! -d "$corpus/$t" ]; then
    mkdir -p "$corpus/$t"
    if [ -d "$build/seed-corpus/$t" ]; then cp "$build/seed-corpus/$t"/* "$corpus/$t"/; fi
  fi
done

status=0
summary=()
for t in "${targets[@]}"; do
  log="$build/fuzz-$t.log"
  before=$(ls "$corpus/$t" | wc -l)
  printf '\n==== fuzz_%s: %s min ====\n' "$t" "$minutes"
  rc=0
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/test/fuzz/fuzz_$t" -max_total_time=$((minutes * 60)) -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$findings/$t-" "$corpus/$t" >"$log" 2>&1 || rc=$?
  stat() { awk -v k="stat::$1:" '$1 == k {v = $2} END {print v}' "$log"; }
  execs=$(stat number_of_executed_units)
  rate=$(stat average_exec_per_sec)
  rss=$(stat peak_rss_mb)
  after=$(ls "$corpus/$t" | wc -l)
  found=$(ls "$findings" | grep -c "^$t-" || true)
  line="fuzz_$t: executions=${execs:-?} exec/s=${rate:-?} peak_rss_mb=${rss:-?} corpus=$before->$after findings=$found exit=$rc"
  echo "$line"
  if [ "$rc" -ne 0 ]; then
    status=1
    grep -E 'ERROR|SUMMARY|==[0-9]+==' "$log" | head -20 || true
    echo "full log: $log"
  fi
  summary+=("$line")
done
printf '\n==== summary ====\n'
printf '%s\n' "${summary[@]}"
[ "$status" -eq 0 ] && echo "no findings" || echo "FINDINGS in $findings"
exit "$status"
