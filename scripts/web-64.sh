#!/usr/bin/env bash
# The web view against a real mesh (issue 15), NOT part of the ordinary test run (3-6 min on
# 2 cores): N agents (default 64) on 127.0.0.1, ping checker only, in four zones plus a few
# without one; one is killed with kill -9 (by PID); then headless Chromium loads a survivor's
# page. It is the opt-in case of test/e2e/web_view_test (VIGIL_WEB_MESH=N): it asserts that the
# killed node comes first among the problems and is on the first screen with the diagnosis, and
# prints the page's render time (JSON parse + DOM + layout, measured in the page), the request
# time, and the screenshots it saved:
#   <build>/test/e2e/web_view_mesh.png           1280x800, the first screen
#   <build>/test/e2e/web_view_mesh.png.full.png  1280x1600
# usage: scripts/web-64.sh [N]      env: VIGIL_BUILD_DIR (build), VIGIL_BUILD_JOBS (nproc)
# Needs chromium and ICMP sockets (root, or net.ipv4.ping_group_range). Ports come from the test
# allocator (test/ports.hpp: 23000-27899); the fixture kills every agent by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-64}
build=${VIGIL_BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" --target vigil web_view_test -j"${VIGIL_BUILD_JOBS:-$(nproc)}" >/dev/null
VIGIL_WEB_MESH=$n exec "$build/test/e2e/web_view_test" --test-case='web view: a real mesh*'
