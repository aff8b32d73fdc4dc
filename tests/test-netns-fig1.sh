#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The FIG. 1 story (docs/operations.md, "FIG. 1 between real hosts"), on the namespace LAN:
# five nodes A…E (h1…h5) on one bridge, only D and E routed to the backend, which serves
# HTTPS behind the gateway over a 1 MB/s uplink. A release is published and all five check
# at once: every node installs it, each file leaves the backend exactly once (D and E
# included), the offline nodes A…C reach the backend only through a relay (D, the first
# one up), and each node's report is stored once with the receipt the node verified.
# Then a second release, and D — the relay of A…C and, with the lowest node id, the one
# elected to fetch each file from the backend — is killed (SIGKILL) while E streams its
# partial copies: E carries everything, A…C move to E as their relay, all four finish, and
# each file leaves the backend at most twice (D's cut copy, E's whole one). D, restarted,
# gets the release from the LAN.
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
# and no token: they find out by themselves that the backend is unreachable. D starts
# first, so A…C take it as their relay, and its node id is the lowest, so it is the one
# elected to fetch from the backend: killing it later cuts both.
start_node () {
  local i=$1 extra="metrics=any"
  [ "$i" -ge 4 ] && extra="$extra"$'\n'"enrollment-token=$token"
  netns_agent "$i" "$PLUGINS" "$extra$RELAY_CONF"
}
mkdir -p "$NETNS_DIR/node4/state"
echo 0000000000000000000000000000000d > "$NETNS_DIR/node4/state/node-id"
start_node 4
netns_wait_for "$NETNS_DIR/node4/agent.log" 'enrolled' "${NETNS_PIDS[4]}" || fail "D did not enroll"
for i in 1 2 3; do start_node "$i"; done
netns_wait_ready 1 2 3 || fail "agents not ready"
for i in 1 2 3; do
  netns_wait_for "$NETNS_DIR/node$i/agent.log" 'backend traffic goes through relay' "${NETNS_PIDS[$i]}" ||
    fail "$(name "$i") found no relay"
done
start_node 5
netns_wait_for "$NETNS_DIR/node5/agent.log" 'enrolled' "${NETNS_PIDS[5]}" || fail "E did not enroll"
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

# ---- release 2, and D killed while E streams it
relay_of () { grep 'backend traffic goes through relay' "$NETNS_DIR/node$1/agent.log" | tail -n 1 | awk '{ print $(NF - 2) }'; }
node_id () { sed -n 's/.*ready: node=\([0-9a-f]*\).*/\1/p' "$NETNS_DIR/node$1/agent.log" | tail -n 1; }
D=$(node_id 4)
E=$(node_id 5)
for i in 1 2 3; do [ "$(relay_of "$i")" = "$D" ] || fail "$(name "$i") tunnels through $(relay_of "$i"), not D"; done
now_ms () { echo $(( $(date +%s%N) / 1000000 )); }
# D serving a partial copy to a reader is the event: D is mid-way through a file from the
# backend and somebody (E, or D's own relay fetch for A…C) streams it from D
d_partial () { netns_metric 4 kith_peering_partial_served_bytes_total; }
served_before=$(d_partial)
netns_publish 2611221200
start=$(now_ms)
deadline=$((start + 20000))
# D checks first, so that it is the one fetching from the backend when the others ask (a
# node that hears no rival within miss-wait-ms fetches itself: started together, any of D
# and E may lead); the others check as soon as the backend has had D's first request
gets_before=$(files_served)
netns_kith 4 update check > "$NETNS_DIR/check4.out" 2>&1 &
pids[4]=$!
while [ "$(files_served)" -le "$gets_before" ]; do
  [ "$(now_ms)" -lt "$deadline" ] || fail "D asked the backend for nothing of release 2 within 20 s"
  kill -0 "${pids[4]}" 2>/dev/null || fail "D's check ended before it asked the backend: $(cat "$NETNS_DIR/check4.out")"
done
for i in 1 2 3 5; do
  netns_kith "$i" update check > "$NETNS_DIR/check$i.out" 2>&1 &
  pids[$i]=$!
done
while [ "$(d_partial)" -le "$served_before" ]; do
  [ "$(now_ms)" -lt "$deadline" ] || fail "D served no partial copy of release 2 within 20 s"
  kill -0 "${NETNS_PIDS[4]}" 2>/dev/null || fail "D died by itself"
done
on_backend=$(files_served)
netns_kill 4
killed=$(now_ms)
wait "${pids[4]}" 2>/dev/null || true
for i in 1 2 3 5; do wait "${pids[$i]}" || fail "check on $(name "$i") after D died: $(cat "$NETNS_DIR/check$i.out")"; done
done_ms=$(now_ms)
for i in 1 2 3 5; do netns_current "$i" || fail "$(name "$i") did not install release 2"; done
# D may have been cut in the middle of every file it had asked for (on_backend requests
# when it died); E then takes each of those once more. Nothing else may leave twice, and
# nothing three times: E's own fetches are not repeated, A…C never reach the backend.
counts="" twice=0
for f in "$NETNS_RELEASE"/*; do
  n=$(netns_files_requests "$(basename "$f")")
  [ "$n" -ge 1 ] && [ "$n" -le 2 ] || fail "$(basename "$f") left the backend $n times"
  [ "$n" = 2 ] && twice=$((twice + 1))
  counts="$counts $n"
done
[ "$twice" -le "$on_backend" ] || fail "$twice files left twice, but D had asked for only $on_backend"
ok "release 2: D killed $((killed - start)) ms in ($on_backend backend GETs so far); A, B, C, E current $((done_ms - killed)) ms later; backend GETs per file:$counts"

# A…C that tunnelled through D now tunnel through E
for i in 1 2 3; do
  netns_wait_for "$NETNS_DIR/node$i/agent.log" "backend traffic goes through relay $E" "${NETNS_PIDS[$i]}" ||
    fail "$(name "$i") does not use E as its relay"
done
ok "A, B, C tunnel through E (through D before)"

# reports still arrive, now through E
for i in 1 2 3; do
  { echo "second report of node $(name "$i")"; seq 1 3000; } > "$NETNS_DIR/report2-$i.txt"
  netns_kith "$i" upload "$NETNS_DIR/report2-$i.txt" > "$NETNS_DIR/upload$i.out" 2>&1 ||
    fail "upload on $(name "$i") after D died: $(cat "$NETNS_DIR/upload$i.out")"
  stored=$(grep -lx "second report of node $(name "$i")" "$NETNS_VENDOR"/uploads/* 2>/dev/null | grep -v '\.receipt$' || true)
  [ "$(echo "$stored" | grep -c .)" = 1 ] || fail "second report of $(name "$i") stored as: $stored"
  cmp -s "$stored.receipt" "$NETNS_DIR/node$i/state/upload/receipts/$(basename "$stored").json" ||
    fail "$(name "$i") holds no receipt matching the backend's"
done
ok "A, B, C reports after D died: each stored once, receipts verified"

# D comes back and gets release 2 from the LAN: no file leaves the backend again
before=$(files_served)
start_node 4
netns_wait_ready 4 || fail "D did not restart"
ms=$(check_all 4)
netns_current 4 || fail "D did not install release 2"
[ "$(files_served)" = "$before" ] || fail "D fetched from the backend: $before → $(files_served) GETs"
ok "D restarted: current in $ms ms, every file from the LAN"
