#!/usr/bin/env bash
# vigil vs serf, side by side in one run, on loopback (NOT part of the ordinary test run).
#
# usage: scripts/bench-serf.sh [--vigil PATH] [--sizes 16,48] [--trials 5] [--idle 65] [--settle 90]
#                              [--json FILE] [--out DIR] [--seed S] [--plaintext]
#   --vigil defaults to $VIGIL, then build/agent/vigil; --json to DIR/bench-serf.json.
#   --settle: seconds after join convergence before the idle window (both implementations), so
#   the window measures steady state, not the first round of every agent's health records.
#
# For each N and each implementation, the mesh runs alone in its own network namespace
# (created here, only loopback, deleted at the end): N agents on 127.0.0.1, measured by
# test/bench/mesh_bench.py (join convergence, idle CPU/RSS/bytes, kill -9 detection at every
# survivor). Then test/bench/bench_report.py prints the table (metric, vigil, serf, vigil/serf)
# and writes it as JSON (--json).
#
# Identical settings: vigil runs --profile lan (= memberlist DefaultLANConfig) with every timing
# written out in its config file, serf runs -profile=lan (Debian's serf links memberlist, whose
# DefaultLANConfig it uses); serf's reconnect interval (30s) is set on vigil too. Both encrypt
# with the same AES-256 key (vigil --keyring, serf -encrypt), unless --plaintext.
#
# Needs root (network namespaces, nft) and the packages of scripts/deps/bench.txt.
# Every process started is recorded with its PID and killed by PID, never by name.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
VIGIL=${VIGIL:-}
SIZES=16,48
TRIALS=5
IDLE=65
JSON=
OUT=
SEED=1
ENCRYPT=1
SETTLE=90
while [ $# -gt 0 ]; do
  case "$1" in
    --vigil) VIGIL=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --trials) TRIALS=$2; shift 2 ;;
    --idle) IDLE=$2; shift 2 ;;
    --settle) SETTLE=$2; shift 2 ;;
    --json) JSON=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --plaintext) ENCRYPT=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "bench-serf.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "bench-serf.sh: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces and nft counters)"
VIGIL=${VIGIL:-$ROOT/build/agent/vigil}
[ -x "$VIGIL" ] || die "no vigil binary at $VIGIL: build the target vigil, or pass --vigil PATH"
SERF=$(command -v serf) || die "serf not installed (apt-get install -y serf)"
command -v nft >/dev/null || die "nft not installed (apt-get install -y nftables)"
command -v ip >/dev/null || die "ip not installed (apt-get install -y iproute2)"
"$PY" -c 'import msgpack' 2>/dev/null || die "python3-msgpack not installed"

OUT=${OUT:-$(mktemp -d /tmp/vigil-bench-serf.XXXXXX)}
mkdir -p "$OUT"
JSON=${JSON:-$OUT/bench-serf.json}
PIDFILE=$OUT/pids
: >"$PIDFILE"
NS_PREFIX=vgbench$$
NAMESPACES=()
DRIVER=

# shellcheck source=scripts/lib/bench-mesh.sh
. "$ROOT/scripts/lib/bench-mesh.sh"
bench_mesh_traps

# One key for both (vigil's keyring file, serf's -encrypt) and the memberlist-LAN timings of both
# (vigil --profile lan written out, plus serf's 30 s reconnect; serf -profile=lan): the shared
# scripts/lib/bench-mesh.sh.
KEY_ARGS=()
if [ "$ENCRYPT" = 1 ]; then
  bench_mesh_configs "$OUT" "$VIGIL"
  KEY_ARGS=(--keyring "$OUT/keyring.json" --key "$KEY")
else
  bench_mesh_configs "$OUT"
fi

echo "bench-serf: vigil=$VIGIL serf=$SERF ($("$SERF" version | head -1)) sizes=$SIZES trials=$TRIALS idle=${IDLE}s encrypted=$ENCRYPT out=$OUT"
RESULTS=()
rc=0
for n in ${SIZES//,/ }; do
  for impl in vigil serf; do
    ns=${NS_PREFIX}-$impl$n
    ip netns add "$ns"
    NAMESPACES+=("$ns")
    ip -n "$ns" link set lo up
    res=$OUT/$impl-n$n.json
    # hard bound per mesh: 30 min
    timeout -k 10 1800 ip netns exec "$ns" "$PY" "$ROOT/test/bench/mesh_bench.py" \
      --impl "$impl" -n "$n" --trials "$TRIALS" --idle "$IDLE" --settle "$SETTLE" --seed "$SEED" \
      --vigil "$VIGIL" --vigil-config "$OUT/vigil.json" --serf "$SERF" --serf-config "$OUT/serf.json" \
      "${KEY_ARGS[@]}" --workdir "$OUT/$impl-n$n" --pidfile "$PIDFILE" --out-json "$res" &
    DRIVER=$!
    wait "$DRIVER" || { echo "bench-serf: $impl n=$n failed (see $OUT/$impl-n$n/)" >&2; rc=1; }
    DRIVER=
    ip netns del "$ns" 2>/dev/null || true
    [ -f "$res" ] && RESULTS+=("$res")
  done
done
"$PY" "$ROOT/test/bench/bench_report.py" --json "$JSON" "${RESULTS[@]}"
echo "bench-serf: table as JSON in $JSON; raw results and agent logs in $OUT"
exit $rc
