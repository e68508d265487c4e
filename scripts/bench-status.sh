#!/usr/bin/env bash
# /v1/status under load (not part of the test run): one agent's view of N nodes, filled through
# the real gossip layer (test/bench/status_bench: a push-pull carries N members and their health
# records through the gossip and health codecs), served by the real HTTP server and status
# routes pinned to CPU 0; wrk runs on CPU 1. Prints req/s, latency percentiles and the serving
# process's RSS. Targets (issue 5): p99 < 20 ms and >= 1,000 req/s at 1,000 nodes.
# Usage: scripts/bench-status.sh [nodes=1000] [seconds=30] [connections=8]
#   The last line is the result as JSON; BENCH_JSON=FILE also appends it to FILE.
#   STATUS_BENCH=path/to/status_bench skips the build (default: build it in ./build).
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=${1:-1000}; secs=${2:-30}; conns=${3:-8}
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
command -v curl >/dev/null || apt-get install -y -qq curl >/dev/null
bench=${STATUS_BENCH:-}
if [ -z "$bench" ]; then
  scripts/setup.sh >/dev/null
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build --target status_bench -j"$(nproc)" >/dev/null
  bench=build/test/bench/status_bench
fi
[ "$(nproc)" -ge 2 ] || { echo "needs 2 CPUs (server on one, wrk on the other)"; exit 2; }
out=$(mktemp)
taskset -c 0 "$bench" --nodes "$nodes" >"$out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 600); do  # bounded: the fill takes well under a second at 1,000 nodes
  grep -q '^port=' "$out" && break
  kill -0 "$pid" 2>/dev/null || { cat "$out"; exit 1; }
  sleep 0.1
done
port=$(sed -n 's/^port=//p' "$out")
[ -n "$port" ] || { echo "status_bench did not start"; cat "$out"; exit 1; }
url="http://127.0.0.1:$port/v1/status"
head -1 "$out"
echo "response: $(curl -s -o /dev/null -w 'HTTP %{http_code}, %{size_download} bytes, first request %{time_total} s' "$url")"
echo "RSS before the load: $(awk '/VmRSS/ { print $2 " kB" }' "/proc/$pid/status")"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }  # utime + stime
t0=$(cpu_ticks)
taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --latency "$url" | tee "$out.wrk"
t1=$(cpu_ticks)
reqs=$(awk '/requests in/ { print $1 }' "$out.wrk")
awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v r="$reqs" -v s="$secs" 'BEGIN {
  c = t / hz
  printf "server CPU: %.1f s over %d s (%.0f%% of its core; the rest went to other processes)", c, s, 100 * c / s
  if (c > 0) printf ", %.0f requests per CPU-second", r / c
  printf "\n" }'
echo "RSS after the load: $(awk '/VmRSS/ { print $2 " kB" }' "/proc/$pid/status") (the serving process: ${nodes} nodes' membership + health state, the published view, its cached rendering, 4 HTTP workers)"
echo "summary: ${nodes} nodes: $(awk '/Requests\/sec/ { print $2 }' "$out.wrk") req/s, p99 $(awk '$1 == "99%" { print $2 }' "$out.wrk") (targets: >= 1000 req/s, p99 < 20 ms)"
rss_after=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
json=$(awk -v nodes="$nodes" -v secs="$secs" -v conns="$conns" -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" \
  -v commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" -v date="$(date -u +%FT%TZ)" \
  -v rss="$rss_after" -v fill="$(head -1 "$out")" '
  /Requests\/sec/ { rps = $2 } $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
  END { printf "{\"bench\":\"status\",\"commit\":\"%s\",\"date\":\"%s\",\"nodes\":%d,\"seconds\":%d,\"connections\":%d,\"req_per_s\":%s,\"p50\":\"%s\",\"p99\":\"%s\",\"server_cpu_s\":%.1f,\"rss_after_load_kib\":%d,\"fill\":%s}\n",
               commit, date, nodes, secs, conns, rps + 0, p50, p99, t / hz, rss, fill }' "$out.wrk")
echo "$json"
[ -z "${BENCH_JSON:-}" ] || echo "$json" >>"$BENCH_JSON"
rm -f "$out.wrk"
