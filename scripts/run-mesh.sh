#!/usr/bin/env bash
# The main job (README): installs what it needs, builds vigil, starts a local mesh of agents on
# loopback with gossip encryption, waits for it to converge and prints `vigil status`; then
# kills one agent with SIGKILL and prints the status again as seen from a survivor.
# Every process started here is tracked by PID and killed by PID on exit.
# Installs and builds only the agent: `scripts/setup.sh --demo` (scripts/deps/build.txt, no test
# components) and the `vigil` target configured without tests and without the containerd
# checker's gRPC helper (-DVIGIL_TESTS=OFF -DVIGIL_CRI=OFF), in its own build directory so the
# test build (build/, scripts/test.sh) keeps its options.
# Environment: VIGIL_MESH_NODES (5), VIGIL_MESH_BASE_PORT (27946), VIGIL_BUILD_DIR (build-demo),
# VIGIL_BUILD_JOBS (nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${VIGIL_MESH_NODES:-5}
scripts/setup.sh --demo
build=${VIGIL_BUILD_DIR:-build-demo}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIGIL_TESTS=OFF \
  -DVIGIL_CRI=OFF >/dev/null
cmake --build "$build" --target vigil -j"${VIGIL_BUILD_JOBS:-$(nproc)}" >/dev/null
vigil=$build/agent/vigil

work=$(mktemp -d /tmp/vigil-mesh.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

printf '["%s"]\n' "$($vigil keygen)" > "$work/keyring.json"
base=${VIGIL_MESH_BASE_PORT:-27946}
zones=(zone-a zone-b zone-c)
for i in $(seq 1 "$N"); do
  gp=$((base + 2 * (i - 1))); hp=$((gp + 1))
  mkdir -p "$work/n$i"
  join=()
  [ "$i" -gt 1 ] && join=(--join "127.0.0.1:$base")
  $vigil agent --name "node-$i" --bind "127.0.0.1:$gp" --http "127.0.0.1:$hp" \
    --data-dir "$work/n$i" --keyring "$work/keyring.json" --profile local \
    --tag "zone=${zones[$(( (i - 1) % 3 ))]}" "${join[@]}" >"$work/n$i/agent.log" 2>&1 &
  pids+=($!)
done

addr="http://127.0.0.1:$((base + 1))"
echo "Started $N agents on 127.0.0.1 (gossip ports $base.., HTTP $((base + 1)).., encrypted)."
for _ in $(seq 1 100); do  # bounded: at most ~20 s
  alive=$($vigil members --addr "$addr" --json 2>/dev/null | grep -o '"status": *"alive"' | wc -l || true)
  [ "$alive" -ge "$N" ] && break
  sleep 0.2
done
echo; echo "== vigil members (from node-1) =="
$vigil members --addr "$addr"
sleep 3  # let the first checker results spread
echo; echo "== vigil status (from node-1) =="
$vigil status --addr "$addr" || true

victim=$N
echo; echo "== kill -9 node-$victim (pid ${pids[$((victim - 1))]}) and watch from node-1 =="
kill -KILL "${pids[$((victim - 1))]}"
for _ in $(seq 1 150); do  # bounded: at most ~30 s
  $vigil members --addr "$addr" --json 2>/dev/null | grep -q '"failed"' && break
  sleep 0.2
done
$vigil members --addr "$addr"
echo; echo "== vigil status (from node-1) =="
$vigil status --addr "$addr" || true
echo; echo "== vigil history --since 5m (from node-1) =="
$vigil history --addr "$addr" --since 5m || true
