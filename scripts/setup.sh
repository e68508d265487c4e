#!/usr/bin/env bash
# Installs dependencies from Debian's apt. Package lists live in scripts/deps/*.txt (one package
# per line, '#' comments), one file per concern.
#   scripts/setup.sh               every list: the build, the tests and their components (test.sh)
#   scripts/setup.sh --demo        only deps/build.txt: build and run the agent (run-mesh.sh)
#   scripts/setup.sh LIST...       only the named lists, e.g. `scripts/setup.sh build bench`
# Skips apt entirely when everything is already installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lists=()
for a in "$@"; do
  case $a in
    --demo) lists+=("$here/deps/build.txt") ;;
    -h | --help) sed -n '2,7s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) echo "setup: unknown option $a (want --demo or list names from scripts/deps/)" >&2; exit 2 ;;
    *)
      [ -f "$here/deps/${a%.txt}.txt" ] || {
        echo "setup: no list scripts/deps/${a%.txt}.txt" >&2; exit 2; }
      lists+=("$here/deps/${a%.txt}.txt") ;;
  esac
done
[ ${#lists[@]} -gt 0 ] || lists=("$here"/deps/*.txt)
mapfile -t pkgs < <(cat "${lists[@]}" | sed 's/#.*//' | awk 'NF {print $1}' | sort -u)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#pkgs[@]} packages present"
  exit 0
fi
echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/vigil-apt.log 2>&1 || {
  tail -30 /tmp/vigil-apt.log; echo "setup: apt-get install failed" >&2; exit 1; }
echo "setup: done"
