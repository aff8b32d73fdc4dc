#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The namespace LAN (FIG. 1; docs/architecture.md) itself and the peering service between real hosts: five
# hosts on one bridge, only D (h4) and E (h5) routed to the backend behind the gateway.
#   usage: test-netns-lan.sh BUILD-DIR      (exit 77 where namespaces cannot be made)
. "$(dirname "$0")/kith-netns.sh"
netns_enter 240 "$0" "$@"
set -euo pipefail

fail () { echo "FAIL: $*"; [ -n "${NETNS_KEEP:-}" ] && cp -r "$NETNS_DIR" "$NETNS_KEEP"; for f in "$NETNS_DIR"/node*/agent.log "$NETNS_DIR"/backend.log; do
            [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done; exit 1; }
ok () { echo "ok - $*"; }

netns_lan "$1" 5
trap netns_cleanup EXIT
netns_online 4 5
netns_backend --rate-limit 2000000

# the topology: every host sees the LAN, only D and E the Internet
rc=0
netns_exec h1 curl -s --max-time 5 -o /dev/null "http://$(netns_addr 4):6515/" 2>/dev/null || rc=$?
[ "$rc" = 7 ] || fail "h1 → h4 should be refused (nothing listens yet), curl said $rc"
if netns_exec h1 curl -s --max-time 5 -o /dev/null "$NETNS_BACKEND_URL/catalog.json" 2>/dev/null; then
  fail "offline h1 reached the backend"
fi
netns_exec h4 curl -sf --max-time 5 --cacert "$NETNS_VENDOR/ca.pem" -o /dev/null "$NETNS_BACKEND_URL/catalog.json" ||
  fail "online h4 cannot reach the backend"
ok "topology: LAN for all, the backend only from h4 and h5"

for i in 1 2 3 4 5; do netns_agent "$i" "peering;update"; done
netns_wait_ready 1 2 3 4 5 || fail "agents not ready"
ok "five agents with stock-like configs (wildcard peering, subnet broadcast)"

# D and E check at the same moment: each file leaves the backend once
netns_kith 4 update check > "$NETNS_DIR/check4.out" 2>&1 & c4=$!
netns_kith 5 update check > "$NETNS_DIR/check5.out" 2>&1 & c5=$!
wait "$c4" || fail "check on D: $(cat "$NETNS_DIR/check4.out")"
wait "$c5" || fail "check on E: $(cat "$NETNS_DIR/check5.out")"
for f in "$NETNS_RELEASE"/*; do
  n=$(netns_files_requests "$(basename "$f")")
  [ "$n" = 1 ] || fail "$(basename "$f") left the backend $n times"
done
for i in 4 5; do netns_current "$i" || fail "node $i did not install the release"; done
ok "D and E at once: each of the $(ls "$NETNS_RELEASE" | wc -l) files left the backend once, both installed"
