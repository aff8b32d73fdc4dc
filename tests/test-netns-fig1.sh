#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The FIG. 1 story (docs/operations.md, "FIG. 1 between real hosts"), on the namespace LAN:
# five nodes A…E (h1…h5) on one bridge, only D and E routed to the backend, which serves
# HTTPS behind the gateway over a 1 MB/s uplink. A release is published and all five check
# at once: every node installs it, each file leaves the backend exactly once (D and E
# included), the offline nodes A…C reach the backend only through a relay (D or E), and
# each node's report is stored once with the receipt the node verified.
#   usage: test-netns-fig1.sh BUILD-DIR      (exit 77 where namespaces cannot be made)
. "$(dirname "$0")/kith-netns.sh"
netns_enter 280 "$0" "$@"
set -euo pipefail

fail () { echo "FAIL: $*"; for f in "$NETNS_DIR"/node*/agent.log "$NETNS_DIR"/backend.log; do
            [ -f "$f" ] && { echo "--- $f"; tail -n 50 "$f"; }; done; exit 1; }
ok () { echo "ok - $*"; }
name () { printf "\\x$(printf %x $((64 + $1)))"; } # 1 → A

PLUGINS="peering;update;upload;relay"
RATE=1000000
# probes and retries of the relay client shortened for a test; everything else stock
RELAY_CONF=$'\n[relay]\nprobe=2s\nretry=300ms\noffer-wait=1s'

netns_lan "$1" 5
trap netns_cleanup EXIT
netns_online 4 5
netns_backend --rate-limit "$RATE"
token=$(cat "$NETNS_VENDOR/enrollment-token")

# D and E are connected and enrolled (their certificate permits relay); A…C have no route
# and no token: they find out by themselves that the backend is unreachable
start_node () {
  local i=$1 extra=""
  [ "$i" -ge 4 ] && extra="enrollment-token=$token"
  netns_agent "$i" "$PLUGINS" "$extra$RELAY_CONF"
}
for i in 1 2 3 4 5; do start_node "$i"; done
netns_wait_ready 1 2 3 4 5 || fail "agents not ready"
for i in 4 5; do
  netns_wait_for "$NETNS_DIR/node$i/agent.log" 'enrolled' "${NETNS_PIDS[$i]}" || fail "$(name "$i") did not enroll"
done
for i in 1 2 3; do
  netns_wait_for "$NETNS_DIR/node$i/agent.log" 'backend traffic goes through relay' "${NETNS_PIDS[$i]}" ||
    fail "$(name "$i") found no relay"
done
ok "A, B, C unreachable from the backend use a relay; D and E enrolled"

# every file of the last release requested from the backend at most/exactly N times
files_served () {
  local f total=0
  for f in "$NETNS_RELEASE"/*; do total=$((total + $(netns_files_requests "$(basename "$f")"))); done
  echo "$total"
}

check_all () {
  local i pids=() start
  start=$(date +%s%N)
  for i in "$@"; do
    netns_kith "$i" update check > "$NETNS_DIR/check$i.out" 2>&1 &
    pids[$i]=$!
  done
  for i in "$@"; do wait "${pids[$i]}" || fail "check on $(name "$i"): $(cat "$NETNS_DIR/check$i.out")"; done
  echo $(( ($(date +%s%N) - start) / 1000000 ))
}

# ---- release 1: all five at once
ms=$(check_all 1 2 3 4 5)
for i in 1 2 3 4 5; do netns_current "$i" || fail "$(name "$i") did not install release 1"; done
for f in "$NETNS_RELEASE"/*; do
  n=$(netns_files_requests "$(basename "$f")")
  [ "$n" = 1 ] || fail "$(basename "$f") left the backend $n times"
done
ok "release 1: all five current in $ms ms; each of the $(ls "$NETNS_RELEASE" | wc -l) files left the backend once"

# ---- a report from every node: D and E post it, A…C through a relay's tunnel or a peer
for i in 1 2 3 4 5; do
  { echo "report of node $(name "$i")"; seq 1 3000; } > "$NETNS_DIR/report$i.txt"
  netns_kith "$i" upload "$NETNS_DIR/report$i.txt" > "$NETNS_DIR/upload$i.out" 2>&1 &
  pids[$i]=$!
done
for i in 1 2 3 4 5; do wait "${pids[$i]}" || fail "upload on $(name "$i"): $(cat "$NETNS_DIR/upload$i.out")"; done
for i in 1 2 3 4 5; do
  stored=$(grep -lx "report of node $(name "$i")" "$NETNS_VENDOR"/uploads/* 2>/dev/null | grep -v '\.receipt$' || true)
  [ "$(echo "$stored" | grep -c .)" = 1 ] || fail "report of $(name "$i") stored as: $stored"
  cmp -s "$NETNS_DIR/report$i.txt" "$stored" || fail "report of $(name "$i") stored damaged"
  # the node keeps the receipt it verified, the one the backend signed
  cmp -s "$stored.receipt" "$NETNS_DIR/node$i/state/upload/receipts/$(basename "$stored").json" ||
    fail "$(name "$i") holds no receipt matching the backend's"
done
uploads=$(netns_stats | tr -d ' \n' | sed -n 's/.*"uploads":\([0-9]*\).*/\1/p')
[ "$uploads" = 5 ] || fail "the backend counts $uploads uploads"
ok "five reports, each stored once, each node holding the receipt it verified"

