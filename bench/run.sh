#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/run.sh BUILD — the kith benchmarks (issue 3 item 11, docs/architecture.md, "What we measure"), run by `make bench`.
#
# Measures on loopback, with real agent processes: (a) origin GETs for N agents wanting
# one URL, (b) hit discovery latency, (c) miss penalty, (d) an agent's alias GET against
# nginx on the same file, (e) packets parsed per second, and an idle agent's RSS/CPU;
# then on the namespace LAN with shaped links (bench/netns.sh, issue 11; skipped with one
# line where namespaces cannot be made): storms, late joiners, the update set, discovery
# and miss between hosts, replies per request, CPU per GB served against nginx.
# Drivers are built optimized: if BUILD is not a release build, a sibling BUILD-bench is
# set up. nginx is installed here if missing (a bench-only need; `make check` does not
# need it), run with a private config on 127.0.0.1 and stopped at the end.
# Prints a summary table and writes it to BUILD-dir/bench-summary.md.
set -eu

BUILD=${1:-build}
SRC=$(cd "$(dirname "$0")/.." && pwd)
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
STEP_TIMEOUT=600 # seconds, for each driver run

buildtype=$(meson introspect --buildoptions "$BUILD" |
  python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"))')
case $buildtype in
  release|debugoptimized|minsize) BENCH_BUILD=$BUILD ;;
  *)
    BENCH_BUILD=$BUILD-bench
    echo "bench: $BUILD is a '$buildtype' build; building optimized drivers in $BENCH_BUILD"
    [ -f "$BENCH_BUILD/build.ninja" ] || meson setup "$BENCH_BUILD" "$SRC" --buildtype=release
    ;;
esac
meson compile -C "$BENCH_BUILD" # the drivers, and the agent and plugins they start
PACKET=$BENCH_BUILD/bench/bench-packet
PEERING=$BENCH_BUILD/bench/bench-peering
for exe in "$PACKET" "$PEERING"; do
  [ -x "$exe" ] || { echo "bench: $exe was not built (needs -Dtests=true and the peering plugin)" >&2; exit 1; }
done

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$NGINX" ]; then
  echo "bench: installing nginx (only the benchmark needs it)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nginx-light ||
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nginx
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
fi

TMP=$(mktemp -d /tmp/kith-bench-XXXXXX)
NGINX_PID=
cleanup () {
  if [ -n "${DRIVER_PGID:-}" ]; then
    kill -TERM -- "-$DRIVER_PGID" 2>/dev/null || true
  fi
  if [ -n "$NGINX_PID" ]; then
    kill "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
RESULTS=$TMP/results
: > "$RESULTS"

# run NAME ARGS… — one driver run, bounded, in its own process group, so that agents it
# started are stopped even if it dies; keeps its "bench:" lines, tagged with NAME
DRIVER_PGID=
run () {
  name=$1
  shift
  echo "== $name: $*"
  # not a group leader (no job control here), so setsid does not fork: $! is the group;
  # TMPDIR: the agents' and the driver's files go where cleanup removes them, even after a crash
  TMPDIR=$TMP setsid timeout --kill-after=10 $STEP_TIMEOUT "$@" > "$TMP/out" 2> "$TMP/err" &
  DRIVER_PGID=$!
  status=0
  wait "$DRIVER_PGID" || status=$?
  kill -TERM -- "-$DRIVER_PGID" 2>/dev/null || true
  DRIVER_PGID=
  if [ "$status" -eq 77 ] && [ -n "${RUN_MAY_SKIP:-}" ]; then
    echo "bench: '$name' skipped: $(tail -n 1 "$TMP/out")"
    return 0
  fi
  if [ "$status" -ne 0 ]; then
    cat "$TMP/out" "$TMP/err" >&2
    echo "bench: '$name' failed (exit status $status)" >&2
    exit 1
  fi
  cat "$TMP/out"
  sed -n "s/^bench: /$name /p" "$TMP/out" >> "$RESULTS"
}

# (e) packets parsed per second
run packet "$PACKET"
sed -n 's/^packet-parse: median \([0-9]*\) parses.*/packet packet-parse \1/p' "$TMP/out" >> "$RESULTS"

# (a)–(c) with the stock timings, then (b)–(c) with reply-order=random (the random delays
# of the patent with the stock 40/80 ms: the behaviour before instant discovery), for comparison
run stock "$PEERING" origin
run stock "$PEERING" discovery 50
run stock "$PEERING" miss 50
run random "$PEERING" --set reply-order=random discovery 50
run random "$PEERING" --set reply-order=random miss 50

# (d) against nginx: one worker (the agent serves from one thread too), sendfile on
mkdir -p "$TMP/www" "$TMP/logs" "$TMP/nginx-tmp"
head -c 200M /dev/urandom > "$TMP/www/big.bin"
chmod 755 "$TMP" "$TMP/www"
chmod 644 "$TMP/www/big.bin"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$TMP/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $TMP/nginx.pid;
error_log $TMP/logs/error.log;
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path $TMP/nginx-tmp/body;
  proxy_temp_path $TMP/nginx-tmp/proxy;
  fastcgi_temp_path $TMP/nginx-tmp/fastcgi;
  uwsgi_temp_path $TMP/nginx-tmp/uwsgi;
  scgi_temp_path $TMP/nginx-tmp/scgi;
  default_type application/octet-stream;
  server { listen 127.0.0.1:$PORT; root $TMP/www; }
}
EOF
"$NGINX" -p "$TMP" -c "$TMP/nginx.conf" &
NGINX_PID=$!
tries=0
until curl -s -o /dev/null -r 0-0 "http://127.0.0.1:$PORT/big.bin"; do
  tries=$((tries + 1))
  [ $tries -lt 100 ] || { cat "$TMP/logs/error.log" >&2; echo "bench: nginx did not start" >&2; exit 1; }
  sleep 0.1
done
run stock "$PEERING" throughput "$TMP/www/big.bin" "http://127.0.0.1:$PORT/big.bin" 5
kill "$NGINX_PID"
wait "$NGINX_PID" 2>/dev/null || true
NGINX_PID=

run stock "$PEERING" idle 10

# issue 8: one agent under a flood of 50 000 peering packets/s plus HTTP for 10 s, and wrk (bench/attack.sh)
run attack "$SRC/bench/attack.sh" "$BENCH_BUILD"

# issue 4: N nodes brought current over a 1 MB/s uplink, kith vs each alone (bench/bench-update.c)
[ ! -x "$BENCH_BUILD/bench/bench-update" ] || run update "$BENCH_BUILD/bench/bench-update"

# issue 11: the namespace LAN with shaped links (bench/netns.sh); root and namespaces needed
RUN_MAY_SKIP=1 STEP_TIMEOUT=960 run netns "$SRC/bench/netns.sh" "$BENCH_BUILD"

# the summary: one row per figure, against its target
val () { awk -v tag="$1" -v key="$2" -v col="$3" '$1 == tag && $2 == key { print $(col + 2); exit }' "$RESULTS"; }
row () { printf '| %-44s | %-22s | %-15s |\n' "$1" "$2" "$3"; }
{
  echo "kith bench - $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, Linux $(uname -r), build $BENCH_BUILD (optimized; asked for $BUILD, $buildtype)"
  echo "command: make bench (bench/run.sh $BUILD)"
  echo
  row "figure" "measured" "target"
  row "---" "---" "---"
  for n in 2 5 10 20; do
    seq=$(awk -v n=$n '$2 == "origin-one-by-one" && $3 == n { print $4 }' "$RESULTS")
    all=$(awk -v n=$n '$2 == "origin-at-once" && $3 == n { print $4 }' "$RESULTS")
    row "(a) origin GETs, N=$n one by one / at once" "$seq / $all" "1 / 1"
  done
  row "(b) hit discovery median / p95 (stock)" "$(val stock discovery-ms 1) / $(val stock discovery-ms 2) ms" "<= 3 / <= 10 ms"
  row "(b) ... reply-order=random (before)" "$(val random discovery-ms 1) / $(val random discovery-ms 2) ms" "<= 3 / <= 10 ms"
  row "(c) miss penalty median / p95 (stock)" "$(val stock miss-ms 1) / $(val stock miss-ms 2) ms" "<= 25 ms"
  row "(c) ... reply-order=random (before)" "$(val random miss-ms 1) / $(val random miss-ms 2) ms" "<= 25 ms"
  row "(d) alias GET 200 MB: agent / nginx MB/s" "$(val stock throughput-mbps 1) / $(val stock throughput-mbps 2)" "-"
  row "(d) agent / nginx: of medians, paired" "$(val stock throughput-mbps 3)x, $(val stock throughput-mbps 4)x" ">= 1.0x"
  row "(e) packets parsed per second (1 core)" "$(val packet packet-parse 1)" ">= 100000"
  row "idle agent over 10 s: RSS kB / CPU %" "$(val stock idle 1) / $(val stock idle 2)" "-"
  att () { awk -v key="$1" -v col="$2" '$1 == "attack" && $2 == key { print $(col + 2); exit }' "$RESULTS"; }
  row "(h) flood 10 s: packets sent / agent CPU %" "$(att attack-flood 1) / $(att attack-flood 5)" "CPU < 100 %"
  row "(h) flood 10 s: agent RSS kB before / after" "$(att attack-flood 2) / $(att attack-flood 3)" "bounded"
  row "(h) 20 MB fetch quiet / during the flood" "$(att attack-fetch 1) / $(att attack-fetch 2) ms" "<= 5000 ms"
  row "(h) HTTP /metrics req/s (wrk -c16)" "$(att attack-wrk 1)" "-"
  if grep -q '^update ' "$RESULTS"; then
    upd () { awk -v what="$1" -v n="$2" -v col="$3" '$1 == "update" && $2 == what && $3 == n { print $(col + 3); exit }' "$RESULTS"; }
    for n in 1 5 10; do
      row "(u) N=$n current, 1 MB/s: kith / alone, s" "$(upd update-kith $n 1) / $(upd update-alone $n 1)" "-"
      row "(u) N=$n backend bytes / release: kith / alone" "$(upd update-kith $n 2) / $(upd update-alone $n 2)" "1.00 (kith)"
    done
    row "(u) kith time N=10 / N=1" "$(awk -v a="$(upd update-kith 10 1)" -v b="$(upd update-kith 1 1)" 'BEGIN { printf "%.2fx", a / b }')" "<= 1.2x"
  fi
  if grep -q '^netns ' "$RESULTS"; then
    net () { awk -v key="$1" -v col="$2" '$1 == "netns" && $2 == key { print $(col + 2); exit }' "$RESULTS"; }
    awk '$1 == "netns" && $2 == "storm-alone" { print $3, $4, $5 }' "$RESULTS" | while read -r size t limit; do
      row "(n) ${size} MiB alone over the uplink, s" "$t (limit $limit)" "-"
    done
    awk '$1 == "netns" && $2 == "storm" { print $3, $4, $6, $7 }' "$RESULTS" | while read -r size n r o; do
      row "(n) storm ${size} MiB N=$n: last/alone, origin/size" "${r}x, $o" "<= 1.15x, 1.00"
    done
    row "(n) late joiners 16 of 4 holders / (file/link)" "$(net late 5)x ($(net late 4) s)" "<= 1.3x"
    row "(n) LAN hit discovery median / p95, 20 holders" "$(net lan-discovery-ms 1) / $(net lan-discovery-ms 2) ms" "<= 3 / <= 10 ms"
    row "(n) ... reply-order=random (before)" "$(net random-lan-discovery-ms 1) / $(net random-lan-discovery-ms 2) ms" "<= 3 / <= 10 ms"
    row "(n) LAN miss penalty median / p95" "$(net lan-miss-ms 1) / $(net lan-miss-ms 2) ms" "<= 25 ms"
    row "(n) ... reply-order=random (before)" "$(net random-lan-miss-ms 1) / $(net random-lan-miss-ms 2) ms" "<= 25 ms"
    row "(n) replies per request, 20 holders" "$(net replies-per-request 1) (random: $(net random-replies-per-request 1))" "<= 2"
    row "(n) most / least served by a holder, of fair" "$(net replies-per-request 2)x / $(net replies-per-request 3)x" "<= 2x"
    row "(n) update set, 1 then 20 nodes, s" "$(net update 2) / $(awk '$1 == "netns" && $2 == "update" && $3 == 20 { print $4 }' "$RESULTS")" "-"
    row "(n) ... backend bytes / release for 20" "$(awk '$1 == "netns" && $2 == "update" && $3 == 20 { print $5 }' "$RESULTS")" "1.00"
    row "(n) CPU s per GB served: agent / nginx" "$(net cpu-per-gb 1) / $(net cpu-per-gb 2)" "-"
  fi
} > "$TMP/summary"
echo
cat "$TMP/summary"
cp "$TMP/summary" "$BENCH_BUILD/bench-summary.md"
echo
echo "(raw lines: $BENCH_BUILD/bench-results.txt; summary: $BENCH_BUILD/bench-summary.md)"
cp "$RESULTS" "$BENCH_BUILD/bench-results.txt"
