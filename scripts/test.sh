#!/usr/bin/env bash
# The test command (README, .ci/run): installs dependencies, then builds and tests three ways:
#   1. g++ RelWithDebInfo, warnings as errors        -> every ctest test
#   2. clang + libFuzzer                               -> each fuzz target for a short, bounded run
#   3. g++ with ASan+UBSan                             -> every ctest test again (its summary ends the run)
# After each ctest run: how many tests were Skipped and why (scripts/ctest-skips.py). With CI=true
# a skipped test fails the run; otherwise it is only reported (docs/testing.md).
# Long soaks and benchmarks are NOT here: scripts/bench-{sim,serf,status,load}.sh, scripts/soak.sh,
# scripts/fuzz.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc)
gen=(-G Ninja)

step() { printf '\n==== %s ====\n' "$*"; }
# ctest_run STAGE DIR ARGS...: ctest on DIR, then the skipped tests; ctest's failure comes first,
# then (CI=true) a skip. ctest's own summary line is repeated last, so each stage still ends on it.
ctest_run() {
  local stage=$1 dir=$2 junit=$PWD/$2/ctest-junit.xml log=$PWD/$2/ctest-output.log rc=0 skips=0
  shift 2
  rm -f "$junit"
  ctest --test-dir "$dir" --output-junit "$junit" "$@" 2>&1 | tee "$log" || rc=$?
  scripts/ctest-skips.py "$junit" "$stage" || skips=$?
  grep -E '^[0-9]+% tests passed' "$log" | tail -1 || true
  [ "$rc" -ne 0 ] || rc=$skips
  return "$rc"
}

step "build (g++, -Wall -Wextra -Werror)"
# -g1 (line tables: stack traces keep file:line) compiles ~25% faster than full -g.
cmake -S . -B build "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIGIL_WERROR=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
cmake --build build -j"$jobs"
step "tests (g++)"
ctest_run g++ build --output-on-failure -j"$jobs" --timeout 600

step "fuzz (clang + libFuzzer, short runs)"
cmake -S . -B build-fuzz "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DVIGIL_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$jobs"
ctest_run fuzz build-fuzz --output-on-failure -j"$jobs" --timeout 300

step "build (g++, ASan+UBSan)"
cmake -S . -B build-asan "${gen[@]}" -DCMAKE_BUILD_TYPE=Debug -DVIGIL_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
step "tests (ASan+UBSan)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The multi-host netns suite is not built here (test/e2e/CMakeLists.txt says why).
ctest_run ASan+UBSan build-asan --output-on-failure -j"$jobs" --timeout 900
