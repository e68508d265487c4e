#!/usr/bin/env bash
# Idle cost of real agents at scale, vigil vs serf, on loopback (NOT part of the ordinary test run).
#
# usage: scripts/bench-scale.sh [--sizes 16,128] [--idle 660] [--settle 120] [--json FILE]
#                               [--out DIR] [--vigil PATH] [--change-trials 3] [--seed S]
#                               [--allow-short]
#   --vigil defaults to $VIGIL, then build/agent/vigil (copied into DIR first, so a rebuild
#   during the run cannot change it); --json to DIR/bench-scale.json.
#   --idle must be at least twice the longest periodic activity of either side at the largest
#   size (printed below); --allow-short lifts that rule, for smoke tests only.
#
# For each N and each implementation, the mesh runs alone in its own network namespace
# (created here, only loopback, deleted at the end): N agents on 127.0.0.1, driven by
# test/bench/mesh_bench.py --mode scale:
#   join     N agents started (1..N-1 joining agent 0), until every agent lists N alive;
#   settle   --settle s, then an idle window of --idle s with no client polling: nft byte
#            counters on the gossip port range (IP level) and the agents' CPU sampled every
#            30 s; RSS (VmRSS) of every agent at the end. The largest 30-s step next to the
#            window's mean shows whether there are refresh storms;
#   change   3 trials on different agents, polled every 0.25 s, bounded by 60 s: vigil: the
#            agent's `flip` tcp checker fails (the driver closes the listener it connects to)
#            until every agent's GET /v1/status lists that probe failed, then it is restored;
#            serf: a tag set over RPC (what `serf tags -set` does) until every agent's members
#            show it, then deleted.
# Then test/bench/bench_report.py --scale prints the table (bytes/s per agent, max 30-s step,
# CPU s/min, RSS, change visible everywhere; vigil/serf ratios; bytes per agent at the largest
# N over the smallest) and writes it as JSON (--json), next to one JSON per (impl, N) in DIR.
#
# Identical settings as scripts/bench-serf.sh: vigil --profile lan with every timing written
# out plus serf's 30 s reconnect interval, serf -profile=lan; both encrypted with one AES-256
# key. vigil runs an explicit, hermetic checker set (nothing outside the namespace's loopback,
# no host sockets): disk on its own data dir, tcp `flip` to a listener of the driver, ping
# (ICMP) to its peers. net.ipv4.ping_group_range is opened inside the namespace so each agent
# uses a datagram ICMP socket and sees only its own replies, as on separate hosts (raw sockets
# would each receive every agent's replies). ICMP has no port: it is not in the byte counts.
#
# Needs root (network namespaces, nft) and the packages of scripts/deps/bench.txt.
# Every process started is recorded with its PID and killed by PID, never by name; each agent
# carries PR_SET_PDEATHSIG; every wait is bounded; every mesh is bounded by 40 min.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
VIGIL=${VIGIL:-}
SIZES=16,128
IDLE=660
SETTLE=120
JSON=
OUT=
SEED=1
TRIALS=3
ALLOW_SHORT=0
SAMPLE=30
while [ $# -gt 0 ]; do
  case "$1" in
    --vigil) VIGIL=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --idle) IDLE=$2; shift 2 ;;
    --settle) SETTLE=$2; shift 2 ;;
    --json) JSON=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --change-trials) TRIALS=$2; shift 2 ;;
    --allow-short) ALLOW_SHORT=1; shift ;;
    -h|--help) sed -n '2,39p' "$0"; exit 0 ;;
    *) echo "bench-scale.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "bench-scale.sh: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces and nft counters)"
[[ $SIZES =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--sizes must be a comma-separated list of integers"
[[ $IDLE =~ ^[0-9]+$ && $SETTLE =~ ^[0-9]+$ && $TRIALS =~ ^[0-9]+$ ]] ||
  die "--idle, --settle and --change-trials take whole numbers"
for n in ${SIZES//,/ }; do
  { [ "$n" -ge 3 ] && [ "$n" -le 200 ]; } || die "sizes must be from 3 to 200 (ports stay below 32768)"
done
VIGIL=${VIGIL:-$ROOT/build/agent/vigil}
[ -x "$VIGIL" ] || die "no vigil binary at $VIGIL: build the target vigil, or pass --vigil PATH"
SERF=$(command -v serf) || die "serf not installed (apt-get install -y serf)"
command -v nft >/dev/null || die "nft not installed (apt-get install -y nftables)"
command -v ip >/dev/null || die "ip not installed (apt-get install -y iproute2)"
"$PY" -c 'import msgpack' 2>/dev/null || die "python3-msgpack not installed"

# Periodic activities of each side at N (seconds; memberlist's push-pull scale above 32 nodes:
# ceil(log2(n) - 5) + 1). Printed per size; the longest, at the largest size, bounds --idle.
pp_mult() { "$PY" -c 'import math,sys; n=int(sys.argv[1]); print(1 if n <= 32 else math.ceil(math.log2(n) - 5) + 1)' "$1"; }
PING_INTERVAL=10 FLIP_INTERVAL=2 DISK_INTERVAL=10
longest=0
for n in ${SIZES//,/ }; do
  pp=$((30 * $(pp_mult "$n")))
  for t in "$pp" 30 15 "$PING_INTERVAL" "$DISK_INTERVAL"; do [ "$t" -gt "$longest" ] && longest=$t; done
done
if [ "$IDLE" -lt $((2 * longest)) ]; then
  [ "$ALLOW_SHORT" = 1 ] || die "--idle $IDLE is shorter than twice the longest periodic activity (${longest}s); --allow-short for a smoke test"
  echo "bench-scale: WARNING --allow-short: --idle $IDLE < 2 x ${longest}s, a smoke test, not a measurement"
fi

OUT=${OUT:-$(mktemp -d /tmp/vigil-bench-scale.XXXXXX)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
JSON=${JSON:-$OUT/bench-scale.json}
PIDFILE=$OUT/pids
: >"$PIDFILE"
NS_PREFIX=vgscale$$
NAMESPACES=()
DRIVER=

# shellcheck source=scripts/lib/bench-mesh.sh
. "$ROOT/scripts/lib/bench-mesh.sh"
bench_mesh_traps

# The binary measured: a copy, so a concurrent rebuild of build/agent/vigil cannot swap it.
cp "$VIGIL" "$OUT/vigil"
VIGIL_BIN=$OUT/vigil
VIGIL_SHA=$(sha256sum "$VIGIL_BIN" | cut -c1-16)
VIGIL_BUILT=$(date -u -r "$VIGIL" +%Y-%m-%dT%H:%M:%SZ)
# the source it was most likely built from (read only: HEAD and how many files differ from it)
SRC="tree at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') with $(git -C "$ROOT" status --porcelain 2>/dev/null | wc -l) uncommitted files"

# One key for both (vigil's keyring file, serf's -encrypt) and the memberlist-LAN timings of
# both, exactly as bench-serf.sh writes them (scripts/lib/bench-mesh.sh).
bench_mesh_configs "$OUT" "$VIGIL_BIN"
# vigil's checkers, per agent (mesh_bench.py substitutes @DATA@ and @FLIP_PORT@): every key
# written out. `flip` (failure_threshold 1) fails at its first run after the driver closes its
# listener, so the change trial measures the spread, not flap damping.
cat >"$OUT/vigil-checkers.json" <<EOF
[ {"type": "disk", "name": "disk", "interval": "${DISK_INTERVAL}s", "timeout": "5s", "paths": ["@DATA@"],
   "warning": 80, "critical": 90, "inodes_warning": 80, "inodes_critical": 90},
  {"type": "tcp", "name": "flip", "interval": "${FLIP_INTERVAL}s", "timeout": "1s",
   "failure_threshold": 1, "success_threshold": 1, "address": "127.0.0.1:@FLIP_PORT@"},
  {"type": "ping", "name": "ping", "interval": "${PING_INTERVAL}s", "timeout": "5s", "count": 5,
   "packet_interval": "100ms", "reply_timeout": "1s", "max_peers_per_round": 8, "peers": true,
   "loss_threshold": 0.2} ]
EOF

load() { cut -d' ' -f1-3 /proc/loadavg; }
# sed reads all of it: `| head -1` could kill serf with SIGPIPE, and pipefail would end the script
SERF_VERSION=$("$SERF" version | sed -n 1p)
echo "bench-scale: vigil=$VIGIL (built $VIGIL_BUILT, sha256 $VIGIL_SHA..., $SRC; run from $VIGIL_BIN)"
echo "bench-scale: serf=$SERF ($SERF_VERSION) sizes=$SIZES idle=${IDLE}s settle=${SETTLE}s" \
  "change trials=$TRIALS out=$OUT"
echo "bench-scale: machine: $(nproc) cores, load average $(load) at start; other work may run on it" \
  "(bytes do not depend on it; CPU and timing may)"
for n in ${SIZES//,/ }; do
  pp=$((30 * $(pp_mult "$n")))
  echo "bench-scale: periodic activities at N=$n (idle window ${IDLE}s, sampled every ${SAMPLE}s):"
  echo "  vigil: probe 1s (ping/ack, UDP; TCP fallback ping only when the UDP probe fails); gossip 200ms to 3" \
    "(only while broadcasts are queued); push-pull ${pp}s (30s x $(pp_mult "$n"), digest first, full state" \
    "only on a mismatch); reconnect 30s (only with failed members); checkers: ping ${PING_INTERVAL}s" \
    "(ICMP, 8 peers x 5 echoes, no port: not counted), flip ${FLIP_INTERVAL}s (tcp to the driver, not" \
    "counted), disk ${DISK_INTERVAL}s (statvfs); status upkeep 2s (local; a record is gossiped only when" \
    "its verdict changes)"
  echo "  serf:  probe 1s (ping/ack carrying Vivaldi coordinates); gossip 200ms to 3 (only while broadcasts" \
    "are queued); push-pull ${pp}s (30s x $(pp_mult "$n"), full state); reconnect 30s (only with failed" \
    "members); reap 15s (local)"
done
echo "bench-scale: longest periodic activity ${longest}s; --idle $IDLE (>= $((2 * longest)) required)"

NOTE="Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) shared cores (other work running; load average at start $(load)): bytes are exact counts, CPU and change times may be inflated by the load. vigil binary built $VIGIL_BUILT (sha256 $VIGIL_SHA..., $SRC); serf $SERF_VERSION (Debian); idle ${IDLE}s after ${SETTLE}s settle; encrypted (one AES-256 key)."
RESULTS=()
rc=0
for n in ${SIZES//,/ }; do
  for impl in vigil serf; do
    ns=${NS_PREFIX}-$impl$n
    ip netns add "$ns"
    NAMESPACES+=("$ns")
    ip -n "$ns" link set lo up
    # datagram ICMP sockets for every group inside this namespace only (see the top)
    ip netns exec "$ns" sysctl -q -w net.ipv4.ping_group_range="0 2147483647"
    res=$OUT/$impl-n$n.json
    echo "bench-scale: $impl N=$n starting (load average $(load))"
    # hard bound per mesh: 40 min
    timeout -k 10 2400 ip netns exec "$ns" "$PY" "$ROOT/test/bench/mesh_bench.py" \
      --mode scale --impl "$impl" -n "$n" --trials 0 --change-trials "$TRIALS" \
      --idle "$IDLE" --settle "$SETTLE" --sample-every "$SAMPLE" --seed "$SEED" \
      --converge-timeout 300 --change-poll 0.25 --change-timeout 60 \
      --gossip-base 20000 --api-base 21000 --flip-base 22000 \
      --vigil "$VIGIL_BIN" --vigil-config "$OUT/vigil.json" --vigil-checkers "$OUT/vigil-checkers.json" \
      --keyring "$OUT/keyring.json" --serf "$SERF" --serf-config "$OUT/serf.json" --key "$KEY" \
      --workdir "$OUT/$impl-n$n" --pidfile "$PIDFILE" --out-json "$res" &
    DRIVER=$!
    wait "$DRIVER" || { echo "bench-scale: $impl N=$n failed (see $OUT/$impl-n$n/)" >&2; rc=1; }
    DRIVER=
    ip netns del "$ns" 2>/dev/null || true
    echo "bench-scale: $impl N=$n done (load average $(load))"
    [ -f "$res" ] && RESULTS+=("$res")
  done
done
[ ${#RESULTS[@]} -gt 0 ] || die "no results (see $OUT)"
"$PY" "$ROOT/test/bench/bench_report.py" --scale --note "$NOTE" --json "$JSON" "${RESULTS[@]}" || rc=1
echo "bench-scale: table as JSON in $JSON; one JSON per mesh and agent logs in $OUT"
exit $rc
