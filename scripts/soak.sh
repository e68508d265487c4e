#!/usr/bin/env bash
# The long run of the multi-host suite (issue 7): N agents (default 8) in network namespaces for
# M minutes (default 30) with random kill -9s, graceful restarts, UDP partitions and 20% loss
# drawn from a seed; reports false failures, missed detections, convergence, crashes and RSS at
# start and end per agent, and exits non-zero unless all are 0 and RSS is flat. Needs root.
#   scripts/soak.sh [--nodes 8] [--minutes 30] [--seed 1] [--json soak.json]
# Everything runs inside namespaces the driver creates (blackhole guard in the root namespace);
# every process is killed by PID; the namespaces are removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "soak: needs root (network namespaces, nft, iptables)" >&2
  exit 77
fi
scripts/setup.sh
build=${VIGIL_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target vigil netns_soak -j"$(nproc)" >/dev/null
exec "$build/test/e2e/netns_soak" --vigil "$build/agent/vigil" "$@"
