#!/usr/bin/env bash
# Simulator benchmarks for docs/benchmarks.md (not part of the test run).
# Prints one JSON line per run. Usage: scripts/bench-sim.sh [seed]   (or: ... [seed] status: only
# the status-layer runs)
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-1}
scripts/setup.sh >/dev/null
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target vigil-sim -j"$(nproc)" >/dev/null
sim=build/test/sim/vigil-sim
run() { echo "# vigil-sim $*" >&2; "$sim" --seed "$seed" --json "$@"; }
only=${2:-all}
if [ "$only" != status ]; then
run --nodes 1000 --scenario converge --minutes 10
run --nodes 1000 --scenario kill
run --nodes 100 --scenario loss --loss 0.05 --minutes 60
run --nodes 100 --scenario stall --minutes 60
run --nodes 100 --scenario partition --partition-seconds 90
for n in 100 1000 10000; do run --nodes "$n" --scenario converge --minutes 2; done
fi
# The status layer at scale (real HealthState on every node, 4 simulated checkers, the simulated
# ping checker; 1% of nodes flip a verdict per minute; window = max(5 min, 2 push-pull periods)).
# Memory is O(n^2): ~3.8 GB at 1,000 nodes, ~15 GB at 2,000 (the largest that fits in 24 GB).
for n in 100 1000 2000; do run --nodes "$n" --scenario status --checkers 4 --churn 0.01; done
for n in 100 1000; do run --nodes "$n" --scenario status --checkers 4 --churn 0; done
