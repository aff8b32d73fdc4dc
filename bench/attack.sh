#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/attack.sh BUILD [OLD_BUILD] — one agent under a hostile LAN's flood (issue 8 item 8), run by
# bench/run.sh. On loopback only, one real kith-agent with the peering plugin:
#   - a 20 MB `kith fetch` from a local origin, quiet, then during the flood;
#   - the flood: bench-flood sends 50 000 peering packets/s (random requests, downloading,
#     complete, junk) for 10 s while kith-hostile-http opens new HTTP connections for random
#     /alias/ paths; the agent's RSS growth, peak RSS and CPU over those 10 s;
#   - HTTP requests per second the agent serves (wrk, 1 thread, 16 connections, 5 s, /metrics);
#     with OLD_BUILD (a build of an older tree), the same for its agent, for comparison.
# Prints "bench: attack-…" lines for run.sh's summary.
set -eu

BUILD=$(cd "$1" && pwd)
OLD=${2:+$(cd "$2" && pwd)}
SRC=$(cd "$(dirname "$0")/.." && pwd)
FLOOD_RATE=${KITH_BENCH_FLOOD_RATE:-50000}
HTTP_FLOOD_RATE=${KITH_BENCH_HTTP_FLOOD_RATE:-2000}
FLOOD_S=10
for exe in "$BUILD/agent/kith-agent" "$BUILD/interactive-ui/kith" "$BUILD/bench/bench-flood" \
           "$BUILD/tests/kith-hostile-http"; do
  [ -x "$exe" ] || { echo "attack: $exe was not built" >&2; exit 1; }
done
command -v wrk > /dev/null || { echo "attack: wrk is missing (data/debian-packages.txt; make deps)" >&2; exit 1; }

TMP=$(mktemp -d /tmp/kith-attack-XXXXXX)
PIDS=()
cleanup () {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port () { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PEERING_PORT=$(( ( $$ % 20000 ) + 30000 ))

# start_agent NAME BUILD — sets AGENT_PID, AGENT_URL, AGENT_BUS
start_agent () {
  local dir=$TMP/$1
  mkdir -p "$dir/state"
  cat > "$dir/kith-agent.conf" <<EOF
[agent]
state-dir=$dir/state
plugin-dir=$2/plugins;$2/plugins/peering
plugins=peering
dbus=unix:path=$dir/bus
http-listen=127.0.0.1:0

[peering]
port=$PEERING_PORT
listen=127.255.255.255
send-address=127.0.0.1
broadcast=127.255.255.255
EOF
  "$2/agent/kith-agent" --config "$dir/kith-agent.conf" 2> "$dir/log" &
  AGENT_PID=$!
  PIDS+=("$AGENT_PID")
  local tries=0
  until grep -q 'ready:' "$dir/log"; do
    tries=$((tries + 1))
    [ $tries -lt 200 ] || { cat "$dir/log" >&2; echo "attack: the agent did not start" >&2; exit 1; }
    sleep 0.05
  done
  AGENT_URL=$(sed -n 's/.*ready:.* http=\([^ ]*\).*/\1/p' "$dir/log" | head -1)
  AGENT_BUS=unix:path=$dir/bus
}

stop_agent () {
  kill "$AGENT_PID"
  wait "$AGENT_PID" 2>/dev/null || true
}

proc_ticks () { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
proc_kb () { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }
now_ms () { date +%s%3N; }

# fetch_ms URL — the wall time of one `kith fetch` through the agent
fetch_ms () {
  local t0 t1
  t0=$(now_ms)
  KITH_AGENT_ADDRESS=$AGENT_BUS "$BUILD/interactive-ui/kith" fetch "$1" -o "$TMP/fetched" > /dev/null 2>&1
  t1=$(now_ms)
  cmp -s "$TMP/fetched" "$TMP/www/$(basename "$1")" || { echo "attack: $1 came back wrong" >&2; exit 1; }
  echo $((t1 - t0))
}

wrk_rate () {
  wrk -t1 -c16 -d5s "$1" 2>&1 | awk '/^Requests\/sec:/ { print $2 }'
}

# the origin: two 20 MB files
mkdir -p "$TMP/www"
head -c 20M /dev/urandom > "$TMP/www/quiet.bin"
head -c 20M /dev/urandom > "$TMP/www/flood.bin"
ORIGIN_PORT=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$TMP/www" "$ORIGIN_PORT" > /dev/null 2>&1 &
PIDS+=("$!")
tries=0
until curl -s -o /dev/null "http://127.0.0.1:$ORIGIN_PORT/quiet.bin"; do
  tries=$((tries + 1)); [ $tries -lt 100 ] || { echo "attack: the origin did not start" >&2; exit 1; }
  sleep 0.1
done
ORIGIN=http://127.0.0.1:$ORIGIN_PORT

start_agent new "$BUILD"
quiet_ms=$(fetch_ms "$ORIGIN/quiet.bin")
rss0=$(proc_kb "$AGENT_PID" VmRSS)
ticks0=$(proc_ticks "$AGENT_PID")
"$BUILD/bench/bench-flood" 127.255.255.255 "$PEERING_PORT" "$FLOOD_RATE" "$FLOOD_S" > "$TMP/flood.out" &
flood_pid=$!
PIDS+=("$flood_pid")
port=${AGENT_URL##*:}
"$BUILD/tests/kith-hostile-http" flood "$port" "$HTTP_FLOOD_RATE" "$FLOOD_S" > "$TMP/http-flood.out" &
http_flood_pid=$!
PIDS+=("$http_flood_pid")
sleep 3 # the fetch starts well inside the flood
flood_ms=$(fetch_ms "$ORIGIN/flood.bin")
wait "$flood_pid"
wait "$http_flood_pid"
ticks1=$(proc_ticks "$AGENT_PID")
rss1=$(proc_kb "$AGENT_PID" VmRSS)
hwm=$(proc_kb "$AGENT_PID" VmHWM)
cpu=$(awk -v t="$((ticks1 - ticks0))" -v hz="$(getconf CLK_TCK)" -v s="$FLOOD_S" 'BEGIN { printf "%.1f", 100 * t / hz / s }')
sent=$(awk '{ print $3 }' "$TMP/flood.out")
http_sent=$(awk '{ print $2 " " $4 }' "$TMP/http-flood.out")
echo "flood: $sent packets in $FLOOD_S s, HTTP requests/answered $http_sent; agent RSS $rss0 -> $rss1 kB (peak $hwm), CPU $cpu %"
echo "fetch 20 MB: quiet $quiet_ms ms, during the flood $flood_ms ms"
echo "bench: attack-flood $sent $rss0 $rss1 $hwm $cpu $http_sent"
echo "bench: attack-fetch $quiet_ms $flood_ms"
after=$(wrk_rate "$AGENT_URL/metrics")
echo "HTTP /metrics, wrk -t1 -c16 -d5s: $after requests/s"
echo "bench: attack-wrk $after"
stop_agent

if [ -n "$OLD" ]; then
  start_agent old "$OLD"
  before=$(wrk_rate "$AGENT_URL/metrics")
  echo "HTTP /metrics, wrk -t1 -c16 -d5s, $OLD: $before requests/s"
  echo "bench: attack-wrk-old $before"
  stop_agent
fi
