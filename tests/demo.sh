#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make demo: the update story of the patent (on loopback where no namespace LAN can be made). A vendor backend serves a
# release over a 1 MB/s "DSL line"; four agents check for updates at once; each file
# crosses the line once and the LAN shares it. Ends by itself; everything lives in a
# temporary directory removed at the end.
set -euo pipefail

BUILD=${1:-build}
# Where namespaces can be made (root, unshare), the FIG. 1 story (docs/operations.md) on the
# namespace LAN instead: five hosts, two online, relays, reports, D killed in the
# middle of a second release. Its lines tell the story; it is bounded and stops by itself.
if [ "$(id -u)" = 0 ] && unshare -n -m true 2> /dev/null; then
  echo "== the FIG. 1 story (docs/operations.md) on a namespace LAN: five hosts A…E, only D and E reach the backend"
  rc=0
  bash "$(dirname "$0")/test-netns-fig1.sh" "$BUILD" || rc=$?
  [ "$rc" = 77 ] || exit "$rc"
  echo "== no namespace LAN here; the loopback story instead"
fi
. "$(dirname "$0")/kith-lan.sh"
lan_init "$BUILD" "$(mktemp -d /tmp/kith-demo-XXXXXX)"
trap lan_cleanup EXIT
NODES=4
RATE=1000000

echo "== vendor backend: init, publish the sample release, serve it at $RATE bytes/s"
lan_backend "$RATE"
ls -l "$LAN_RELEASE" | awk 'NR > 1 { printf "   %-26s %8d bytes\n", $9, $5 }'
echo "   release: $LAN_RELEASE_BYTES bytes, catalog at $LAN_BACKEND_URL/catalog.json"

echo "== starting $NODES agents on loopback"
lan_agents "$NODES"
lan_kith 1 status | sed -n '1,/^$/p'

echo "== kith update check, on the $NODES nodes at once"
start=$(date +%s%N)
checks=()
for i in $(seq "$NODES"); do
  (set -o pipefail; stdbuf -oL "$LAN_BUILD/interactive-ui/kith" --address "unix:path=$LAN_DIR/node$i/bus" update check | sed -u "s/^/   [node$i] /") &
  checks+=($!)
done
for pid in "${checks[@]}"; do wait "$pid" || { echo "a check failed"; exit 1; }; done
end=$(date +%s%N)

echo "== kith update status (node 1)"
lan_kith 1 update status
echo "== the same set on every node"
for i in $(seq "$NODES"); do
  printf '   node%d  %s\n' "$i" "$(cd "$LAN_DIR/node$i/state/update/signatures/current" && cat -- * | sha256sum | cut -c1-16)"
done

served=$(lan_files_bytes)
alone=$(( NODES * LAN_RELEASE_BYTES ))
echo "== backend uplink"
awk -v n="$NODES" -v ns=$((end - start)) -v served="$served" -v release="$LAN_RELEASE_BYTES" \
    -v alone="$alone" -v rate="$RATE" 'BEGIN {
  printf "   %d nodes brought current in %.1f s\n", n, ns / 1e9
  printf "   backend bytes served (files):       %9d  (%.2f x the release)\n", served, served / release
  printf "   %d nodes fetching alone would cost: %9d  (%d x the release, %.1f s at %d B/s)\n", n, alone, n, alone / rate, rate
}'
echo "== stopping (SIGTERM) and cleaning up"
