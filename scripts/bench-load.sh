#!/usr/bin/env bash
# Load (issue 7, not part of the test run): a mesh of real `vigil agent` processes on loopback
# (encrypted gossip, default checkers), wrk against one agent's /v1/status at the highest rate
# it sustains for a while, then the proof that the gossip loop kept its deadlines meanwhile:
# vigil_suspicions_total unchanged on every agent, no NodeFailed/NodeRecovered event in any
# agent's /v1/history since the load started, every member alive everywhere.
# The target agent is pinned to CPU 0 and wrk to CPU 1 (the other agents float).
# Every process started here is tracked by PID and killed by PID on exit.
# Usage: scripts/bench-load.sh [seconds=60] [connections=8] [agents=5]
#   VIGIL=path/to/vigil (default build/agent/vigil, built if missing), VIGIL_PROFILE=lan|local,
#   VIGIL_LOAD_BASE_PORT=28946, VIGIL_LOAD_PAUSE=S (self-check of the report: the last agent is
#   stopped with SIGSTOP for S seconds halfway through the load, so suspicions must show),
#   BENCH_JSON=FILE also appends the result line (printed last, JSON) to FILE.
# Exit status: 0 when no suspicion or failure was seen, 1 otherwise, 2 on setup problems.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}; conns=${2:-8}; n=${3:-5}
profile=${VIGIL_PROFILE:-lan}
base=${VIGIL_LOAD_BASE_PORT:-28946}
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
command -v curl >/dev/null || apt-get install -y -qq curl >/dev/null
vigil=${VIGIL:-build/agent/vigil}
if [ ! -x "$vigil" ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build --target vigil -j"$(nproc)" >/dev/null
  vigil=build/agent/vigil
fi
[ "$(nproc)" -ge 2 ] || { echo "needs 2 CPUs (agent on one, wrk on the other)"; exit 2; }

work=$(mktemp -d /tmp/vigil-load.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; done  # a paused agent too
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

printf '["%s"]\n' "$($vigil keygen)" >"$work/keyring.json"
http_of() { echo "http://127.0.0.1:$((base + 2 * ($1 - 1) + 1))"; }
for i in $(seq 1 "$n"); do
  gp=$((base + 2 * (i - 1)))
  mkdir -p "$work/n$i"
  join=()
  [ "$i" -gt 1 ] && join=(--join "127.0.0.1:$base")
  pin=()
  [ "$i" -eq 1 ] && pin=(taskset -c 0)
  "${pin[@]}" $vigil agent --name "node-$i" --bind "127.0.0.1:$gp" --http "127.0.0.1:$((gp + 1))" \
    --data-dir "$work/n$i" --keyring "$work/keyring.json" --profile "$profile" \
    --tag "zone=zone-$(((i - 1) % 3))" "${join[@]}" >"$work/n$i/agent.log" 2>&1 &
  pids+=($!)
done
target=$(http_of 1)

alive_on() { curl -s "$(http_of "$1")/v1/members" | { grep -o '"status": *"alive"' || true; } | wc -l; }
for _ in $(seq 1 150); do  # bounded: at most ~30 s
  ok=1
  for i in $(seq 1 "$n"); do [ "$(alive_on "$i")" -ge "$n" ] || ok=0; done
  [ $ok -eq 1 ] && break
  sleep 0.2
done
[ $ok -eq 1 ] || { echo "the mesh did not converge"; tail -5 "$work"/n*/agent.log; exit 2; }
sleep 5  # the first checker results spread

metric() {  # metric <agent> <name>: the sum of the series of that name
  curl -s "$(http_of "$1")/metrics" |
    awk -v m="$2" '$1 == m || index($1, m "{") == 1 { s += $NF } END { printf "%g", s + 0 }'
}
rss_of() { awk '/VmRSS/ { print $2 " kB" }' "/proc/$1/status"; }

echo "$n vigil agents on 127.0.0.1 (profile $profile, encrypted gossip), target node-1 at $target"
code=$(curl -s -o "$work/status.json" -w '%{http_code}' "$target/v1/status")
echo "GET /v1/status: HTTP $code, $(wc -c <"$work/status.json") bytes ($(grep -o '"summary":"[^"]*"' "$work/status.json"))"
grep -q '^vigil_suspicions_total ' <<<"$(curl -s "$target/metrics")" ||
  { echo "no vigil_suspicions_total in $target/metrics"; exit 2; }
declare -a susp0
for i in $(seq 1 "$n"); do susp0[$i]=$(metric "$i" vigil_suspicions_total); done
rss0=$(rss_of "${pids[0]}")
since=$(date -u +%Y-%m-%dT%H:%M:%SZ)

echo; echo "== wrk -t1 -c$conns -d${secs}s --latency $target/v1/status (wrk on CPU 1) =="
if [ -n "${VIGIL_LOAD_PAUSE:-}" ]; then
  last=${pids[$((n - 1))]}
  (sleep $((secs / 2)); kill -STOP "$last"; sleep "$VIGIL_LOAD_PAUSE"; kill -CONT "$last") &
  pids+=($!)
  echo "(self-check: node-$n will be paused for ${VIGIL_LOAD_PAUSE}s halfway through)"
fi
taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --latency "$target/v1/status" | tee "$work/wrk.txt"
sleep 2  # anything the load caused has time to show

echo; echo "== during the load =="
bad=0
printf '%-8s %12s %10s %10s %8s %s\n' agent suspicions awareness alive failed "history NodeFailed/NodeRecovered"
for i in $(seq 1 "$n"); do
  s1=$(metric "$i" vigil_suspicions_total)
  d=$(awk -v a="${susp0[$i]}" -v b="$s1" 'BEGIN { printf "%g", b - a }')
  aw=$(metric "$i" vigil_health_awareness)
  al=$(curl -s "$(http_of "$i")/metrics" | awk '$1 == "vigil_members{status=\"alive\"}" { print $NF }')
  fl=$(curl -s "$(http_of "$i")/metrics" | awk '$1 == "vigil_members{status=\"failed\"}" { print $NF }')
  ev=$(curl -s "$(http_of "$i")/v1/history?since=$since" |
    { grep -o '"type": *"Node\(Failed\|Recovered\)"' || true; } | wc -l)
  printf '%-8s %12s %10s %10s %8s %s\n' "node-$i" "+$d" "$aw" "${al:-?}" "${fl:-0}" "$ev"
  if [ "$d" != 0 ] || [ "$ev" -ne 0 ] || [ "${fl:-0}" != 0 ]; then bad=1; fi
done
rps=$(awk '/Requests\/sec/ { print $2 }' "$work/wrk.txt")
p99=$(awk '$1 == "99%" { print $2 }' "$work/wrk.txt")
echo; echo "throughput ${rps} req/s, p99 ${p99}; target agent RSS ${rss0} before, $(rss_of "${pids[0]}") after"
p50=$(awk '$1 == "50%" { print $2 }' "$work/wrk.txt")
json=$(printf '{"bench":"load","commit":"%s","date":"%s","agents":%s,"profile":"%s","seconds":%s,"connections":%s,"req_per_s":%s,"p50":"%s","p99":"%s","rss_before":"%s","rss_after":"%s","suspicions_or_failures":%s}' \
  "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$(date -u +%FT%TZ)" "$n" "$profile" "$secs" "$conns" \
  "${rps:-0}" "$p50" "$p99" "$rss0" "$(rss_of "${pids[0]}")" "$([ $bad -eq 0 ] && echo false || echo true)")
echo "$json"
[ -z "${BENCH_JSON:-}" ] || echo "$json" >>"$BENCH_JSON"
if [ $bad -eq 0 ]; then
  echo "no suspicion raised and no member failed on any agent during the load"
else
  echo "SUSPICIONS OR FAILURES during the load (see above)"
fi
exit $bad
