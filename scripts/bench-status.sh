#!/usr/bin/env bash
# /v1/status under load (not part of the test run): fills one agent's view with N nodes through
# the real gossip layer (test/bench/status_bench: simulated cores + real HealthState), serves it
# with the real HTTP server pinned to one core, and runs wrk against it from the other core.
# Usage: scripts/bench-status.sh [nodes=1000] [seconds=30] [connections=8]
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=${1:-1000}; secs=${2:-30}; conns=${3:-8}
scripts/setup.sh >/dev/null
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target status_bench -j"$(nproc)" >/dev/null
out=$(mktemp)
taskset -c 0 build/test/bench/status_bench --nodes "$nodes" >"$out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 1200); do  # bounded: the fill takes ~1-3 minutes for 1,000 nodes
  grep -q '^port=' "$out" && break
  kill -0 "$pid" 2>/dev/null || { cat "$out"; exit 1; }
  sleep 0.5
done
port=$(sed -n 's/^port=//p' "$out")
[ -n "$port" ] || { echo "status_bench did not start"; cat "$out"; exit 1; }
head -1 "$out"
echo "response size: $(curl -s -o /dev/null -w '%{size_download}' "http://127.0.0.1:$port/v1/status") bytes"
taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --latency "http://127.0.0.1:$port/v1/status"
echo "agent RSS with ${nodes} nodes' state (+ the simulated cores in the same process): $(grep VmRSS /proc/$pid/status)"
