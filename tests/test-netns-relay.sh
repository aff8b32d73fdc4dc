#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The relay (docs/relay.md) between real hosts: five hosts on one bridge, only D (h4) and
# E (h5) routed to the backend. A, B and C (h1-h3) have no route at all and are not told
# so (no offline=true): they find out, take a relay, get their catalog and deliver their
# reports through it, and their origin misses are fetched by the relays. A recording
# TCP tap in front of the backend on the Internet host shows who connected and what the
# first byte was: nothing ever arrives from A, B or C, and everything is TLS.
#   usage: test-netns-relay.sh BUILD-DIR      (exit 77 where namespaces cannot be made)
. "$(dirname "$0")/kith-netns.sh"
netns_enter 280 "$0" "$@"
set -euo pipefail

# NETNS_KEEP=DIR keeps every log and state directory there (on failure and at the end)
keep () { [ -z "${NETNS_KEEP:-}" ] || cp -r "$NETNS_DIR" "$NETNS_KEEP"; }
fail () { echo "FAIL: $*"; keep; for f in "$NETNS_DIR"/node*/agent.log "$NETNS_DIR"/backend.log "$NETNS_DIR"/tap.log; do
            [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done; exit 1; }
ok () { echo "ok - $*"; }

netns_lan "$1" 5
trap netns_cleanup EXIT
netns_online 4 5
netns_backend --listen "$NETNS_INET:8443"

# the tap: the backend's public port, logging "PEER-ADDRESS FIRST-BYTE" per connection
cat > "$NETNS_DIR/tap.py" <<'PY'
import asyncio, sys
host, port, target, log = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()

async def handle(reader, writer):
    peer = writer.get_extra_info("peername")[0]
    first = await reader.read(1)
    with open(log, "a") as f:
        f.write(f"{peer} {first.hex() or '-'}\n")
    try:
        up_reader, up_writer = await asyncio.open_connection(host, target)
    except OSError:
        writer.close()
        return
    up_writer.write(first)
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

async def main():
    server = await asyncio.start_server(handle, host, port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
PY
nsenter --net=/run/netns/inet -- python3 "$NETNS_DIR/tap.py" "$NETNS_INET" 8080 8443 "$NETNS_DIR/tap.log" \
  > "$NETNS_DIR/tap.out" 2>&1 &
NETNS_EXTRA_PIDS+=($!)
netns_wait_for "$NETNS_DIR/tap.out" ready "$!" || fail "the tap did not start"
NETNS_BACKEND_URL=https://$NETNS_INET:8080
: > "$NETNS_DIR/tap.log"
token=$(cat "$NETNS_VENDOR/enrollment-token")
probe=$'[relay]\nprobe=1s\nretry=500ms\nbackoff=30s\n'
plugins="peering;upload;update;relay"
for i in 4 5; do netns_agent "$i" "$plugins" "enrollment-token=$token"$'\n'"metrics=any"$'\n'"$probe"; done
for i in 1 2 3; do netns_agent "$i" "$plugins" "metrics=any"$'\n'"$probe"; done
netns_wait_ready 1 2 3 4 5 || fail "agents not ready"

status_has () { netns_kith "$1" status --json 2>/dev/null | tr -d ' \n' | grep -q "$2"; }
node_id () { netns_kith "$1" status --json | tr -d ' \n' | sed 's/.*"node-id":"\([0-9a-f]*\)".*/\1/'; }
relay_of () { netns_kith "$1" status --json | tr -d ' \n' | sed -n 's/.*"relay-node":"\([0-9a-f]*\)".*/\1/p' | head -n 1; }
relay_is () { [ "$(relay_of "$1")" = "$2" ]; }
wait_until () {
  local what=$1; shift
  for _ in $(seq 300); do "$@" && return 0; sleep 0.1; done
  fail "timed out: $what"
}
for i in 4 5; do wait_until "relay $i serving" status_has "$i" '"serving":true'; done
for i in 1 2 3; do wait_until "node $i relayed" status_has "$i" '"route":"relayed"'; done
D=$(node_id 4)
E=$(node_id 5)
for i in 1 2 3; do
  r=$(relay_of "$i")
  [ "$r" = "$D" ] || [ "$r" = "$E" ] || fail "node $i relays through '$r', neither D nor E"
  grep -q "backend .* unreachable" "$NETNS_DIR/node$i/agent.log" || fail "node $i did not find out by itself"
done
netns_kith 1 status | grep -q "^Relay:    [0-9a-f]* at http://10.77.0.1[45]:6515" || fail "kith status names no relay"
ok "A, B, C found out the backend is unreachable and took a relay (D $D, E $E)"

# A, B and C check at once: the catalog through the tunnels, the files fetched by the relays
pids=()
for i in 1 2 3; do netns_kith "$i" update check > "$NETNS_DIR/check$i.out" 2>&1 & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || fail "a check failed: $(cat "$NETNS_DIR"/check*.out)"; done
for i in 1 2 3; do netns_current "$i" || fail "node $i did not install the release"; done
fetched=$(( $(netns_metric 4 kith_relay_fetches_total) + $(netns_metric 5 kith_relay_fetches_total) ))
[ "$fetched" -ge "$(ls "$NETNS_RELEASE" | wc -l)" ] || fail "the relays fetched $fetched files for the LAN"
once () {
  local f n
  for f in "$NETNS_RELEASE"/*; do
    n=$(netns_files_requests "$(basename "$f")")
    [ "$n" = 1 ] || fail "$(basename "$f") left the backend $n times"
  done
}
once
ok "A, B, C current through the relays ($fetched fetch requests for them), each file left the backend once"

# each reports: the POST goes through the tunnel, the receipt comes back
for i in 1 2 3; do
  echo "scan of node $i: RELAYED-IN-CLEAR-NEVER" > "$NETNS_DIR/report$i"
  netns_kith "$i" upload "$NETNS_DIR/report$i" > "$NETNS_DIR/upload$i.out" 2>&1 ||
    fail "upload on $i: $(cat "$NETNS_DIR/upload$i.out")"
done
stored=$(grep -l "RELAYED-IN-CLEAR-NEVER" "$NETNS_VENDOR"/uploads/* 2>/dev/null | wc -l)
[ "$stored" = 3 ] || fail "$stored reports stored, expected 3"
direct=0
for i in 1 2 3; do direct=$((direct + $(netns_metric "$i" kith_upload_delivered_total 'via="direct"'))); done
[ "$direct" = 3 ] || fail "$direct reports went through a tunnel, expected 3"
ok "three reports delivered through the tunnels, each stored once with a receipt"

# the backend's side: nothing from A, B or C; everything that arrived began a TLS handshake
for i in 1 2 3; do
  ! grep -q "^$(netns_addr "$i") " "$NETNS_DIR/tap.log" || fail "host $i reached the backend itself"
done
grep -q "^$(netns_addr 4) \|^$(netns_addr 5) " "$NETNS_DIR/tap.log" || fail "nothing arrived from the relays"
clear=$(awk '$2 != "16" && $2 != "-"' "$NETNS_DIR/tap.log" | wc -l)
[ "$clear" = 0 ] || fail "$clear connections to the backend did not start with TLS: $(awk '$2 != "16"' "$NETNS_DIR/tap.log")"
up=$(( $(netns_metric 4 kith_relay_bytes_total 'direction="up"') + $(netns_metric 5 kith_relay_bytes_total 'direction="up"') ))
[ "$up" -gt 0 ] || fail "the relays count no bytes"
ok "the backend saw $(wc -l < "$NETNS_DIR/tap.log") connections, none from A, B or C, all TLS; the relays carried $up bytes up"

# no open proxy: CONNECT elsewhere is refused and counted
code=$(netns_exec h1 curl -s -o /dev/null -w '%{http_connect}' --max-time 10 -p -x "http://$(netns_addr 4):6515" \
  "http://$NETNS_INET:22/" || true)
[ "$code" = 403 ] || fail "CONNECT to $NETNS_INET:22 through D answered '$code'"
[ "$(netns_metric 4 kith_relay_refused_total 'reason="target"')" = 1 ] || fail "the refusal was not counted"
ok "CONNECT through D to another port of the Internet host: 403, counted"

# D dies: everyone it relayed for moves to E, and a second release still reaches them
netns_kill 4
for i in 1 2 3; do wait_until "node $i moved to E" relay_is "$i" "$E"; done
netns_publish 2612011200
pids=()
for i in 1 2 3; do netns_kith "$i" update check > "$NETNS_DIR/check$i.out" 2>&1 & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || fail "a check after D died failed: $(cat "$NETNS_DIR"/check*.out)"; done
for i in 1 2 3; do netns_current "$i" || fail "node $i did not install the second release"; done
once
for i in 1 2 3; do
  ! grep -q "^$(netns_addr "$i") " "$NETNS_DIR/tap.log" || fail "host $i reached the backend itself"
done
ok "D killed: A, B, C moved to E and installed the second release through it, each file once"
keep
