# shellcheck shell=bash
# Shared by scripts/bench-serf.sh and scripts/bench-scale.sh (sourced, not run): the plumbing of
# a vigil-vs-serf mesh benchmark in network namespaces.
#   bench_mesh_cleanup        kills the driver ($DRIVER), then every agent recorded in $PIDFILE
#                             (checked against its command line, by PID), deletes $NAMESPACES
#   bench_mesh_traps          installs it on EXIT, INT and TERM
#   bench_mesh_configs DIR V  writes DIR/vigil.json (memberlist DefaultLANConfig timings written
#                             out, plus serf's 30 s reconnect and 24 h reap timeouts) and
#                             DIR/serf.json (serf's own timers), and, with a vigil binary V,
#                             DIR/keyring.json holding one new key; sets KEY to it
# The caller sets PIDFILE, NAMESPACES=() and DRIVER= before bench_mesh_traps.

# shellcheck disable=SC2317  # reached through the traps
bench_mesh_cleanup() {
  trap - EXIT INT TERM
  if [ -n "${DRIVER:-}" ] && kill -0 "$DRIVER" 2>/dev/null; then
    kill -TERM "$DRIVER" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$DRIVER" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$DRIVER" 2>/dev/null || true
  fi
  # second line of defence: agents recorded by the driver, checked against their command line
  while read -r pid _kind; do
    [ -n "${pid:-}" ] || continue
    if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- " agent "; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done <"$PIDFILE"
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
}

bench_mesh_traps() {
  trap bench_mesh_cleanup EXIT
  trap 'bench_mesh_cleanup; exit 130' INT TERM
}

bench_mesh_configs() {
  local dir=$1 vigil=${2:-}
  if [ -n "$vigil" ]; then
    KEY=$("$vigil" keygen | tr -d '[:space:]')
    printf '["%s"]\n' "$KEY" >"$dir/keyring.json"
  fi
  cat >"$dir/vigil.json" <<'JSON'
{ "gossip": {
    "probe_interval": "1s", "probe_timeout": "500ms", "indirect_checks": 3,
    "tcp_fallback_probe": true, "suspicion_mult": 4, "suspicion_max_timeout_mult": 6,
    "awareness_max_multiplier": 8, "retransmit_mult": 4, "gossip_interval": "200ms",
    "gossip_nodes": 3, "gossip_to_the_dead_time": "30s", "push_pull_interval": "30s",
    "reconnect_interval": "30s", "stream_timeout": "10s", "udp_buffer_size": 1400,
    "dead_reap_timeout": "24h", "left_reap_timeout": "24h" } }
JSON
  cat >"$dir/serf.json" <<'JSON'
{ "reconnect_interval": "30s", "reconnect_timeout": "24h", "tombstone_timeout": "24h" }
JSON
}
