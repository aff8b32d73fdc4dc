#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A storm on the namespace LAN (tests/kith-netns.sh): eight hosts ask for one file at the same
# moment, the origin (nginx on the Internet host) behind a 20 Mbit/s uplink, 100 Mbit/s node
# links. Every host must get the file, verified, and the origin must send it exactly once.
# Not timed: bench/netns.sh measures how long it takes.
#   usage: test-netns-storm.sh BUILD-DIR      (exit 77 where namespaces cannot be made)
. "$(dirname "$0")/kith-netns.sh"
netns_enter 240 "$0" "$@"
set -euo pipefail

N=8
fail () { echo "FAIL: $*"; for f in "$NETNS_DIR"/node*/agent.log "$NETNS_DIR"/fetch-*.log; do
            [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done; exit 1; }
ok () { echo "ok - $*"; }

command -v nginx > /dev/null || { echo "SKIP: nginx is not installed (make deps)"; exit 77; }
netns_lan "$1" "$N"
trap netns_cleanup EXIT
netns_online $(seq "$N")
netns_backend > /dev/null # the agents' config names a backend; the storm does not use it
mkdir -p "$NETNS_DIR/www" "$NETNS_DIR/out"
head -c $((4 * 1024 * 1024)) /dev/urandom > "$NETNS_DIR/www/storm.bin"
size=$(stat -c %s "$NETNS_DIR/www/storm.bin")
sha=$(sha256sum "$NETNS_DIR/www/storm.bin" | cut -c1-64)
netns_nginx inet "$NETNS_DIR/www" 8000 || fail "nginx did not start"
: > "$NETNS_NGINX_LOG"
netns_rate uplink 20mbit
for i in $(seq "$N"); do netns_rate "h$i" 100mbit; done

for i in $(seq "$N"); do netns_agent "$i" peering metrics=any; done
netns_wait_ready $(seq "$N") || fail "agents not ready"
ok "$N agents, nginx as the origin behind a 20 Mbit/s uplink"

netns_fetch_at_once "$NETNS_NGINX_URL/storm.bin" "$sha" "$NETNS_DIR/out" $(seq "$N") > /dev/null ||
  fail "not every fetch succeeded"
for i in $(seq "$N"); do
  [ "$(sha256sum < "$NETNS_DIR/out/fetch-$i" | cut -c1-64)" = "$sha" ] || fail "node $i got other bytes"
done
ok "all $N nodes have the file, its sha256 checked"

sent=$(netns_nginx_bytes "$NETNS_NGINX_LOG" /storm.bin)
gets=$(awk '$1 == "/storm.bin"' "$NETNS_NGINX_LOG" | wc -l)
[ "$sent" = "$size" ] || fail "the origin sent $sent bytes of /storm.bin ($gets responses), not $size once"
misses=0
for i in $(seq "$N"); do misses=$((misses + $(netns_metric "$i" kith_peering_misses_total))); done
[ "$misses" = 1 ] || fail "$misses nodes fetched from the origin"
ok "the origin sent the file once ($gets response, $sent bytes); one node counted a miss"
