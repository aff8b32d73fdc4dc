#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/netns.sh BUILD — kith on shaped links: the namespace LAN of tests/kith-netns.sh with 21
# hosts on one bridge, every host link shaped to LINK (100 Mbit/s) each way, the origin (nginx)
# and the backend on the "Internet" host behind an UPLINK (20 Mbit/s) gateway. Run by
# `make bench` (bench/run.sh); runnable alone as root. Prints "bench: KEY VALUE…" lines:
#
#   storm SIZE N SECONDS RATIO ORIGIN   N hosts ask for one SIZE MiB file at once: time until
#                                       the last has it, ÷ one host alone; origin bytes ÷ size
#   storm-alone SIZE SECONDS LIMIT      one host alone, and the uplink's limit
#   late SIZE HOLDERS JOINERS SECONDS RATIO  joiners ask at once a file HOLDERS hold, ÷ (file ÷ link)
#   update N SECONDS BYTES-RATIO        the six-file sample release to N hosts at once over
#                                       UPDATE_UPLINK (1 Mbit/s); N = 1 alone first
#   lan-discovery-ms, lan-miss-ms, replies-per-request   bench-peering's remote mode, 20 holders
#                                       (random-…: the same with reply-order=random)
#   cpu-per-gb AGENT NGINX              CPU seconds per GB served, agent vs nginx (unshaped link)
#
# Parameters (environment): NETNS_BENCH_SIZES (MiB, default "20"; "20 200" for the big file),
# NETNS_BENCH_STORMS ("2 8 20"), NETNS_BENCH_LATE_MIB (50), NETNS_BENCH_LINK (100mbit),
# NETNS_BENCH_UPLINK (20mbit), NETNS_BENCH_UPDATE_UPLINK (1mbit), NETNS_BENCH_LINK_BURST (the tbf
# bucket of the host links, 128kb: below), NETNS_BURST (the uplink's, 32kb: tests/kith-netns.sh),
# NETNS_BENCH_LATE_LOGS (a directory:
# the agents' logs of the late joiners go there), NETNS_BENCH_HITS (200: enough
# for the spread over 20 holders), NETNS_BENCH_MISSES (40), NETNS_BENCH_CPU_GB (2), NETNS_BENCH_PEERING (extra [peering] lines, e.g.
# "reply-order=random"), NETNS_BENCH_PARTS (which, "storm late cpu lan lan-random update";
# lan-random: discovery and miss again with reply-order=random, NETNS_BENCH_RANDOM_HITS, 100). Exits 77 with one line where namespaces cannot be made.
. "$(dirname "$0")/../tests/kith-netns.sh"
netns_enter "${NETNS_BENCH_TIMEOUT:-900}" "$0" "$@"
set -euo pipefail

BUILD=$(cd "$1" && pwd)
SIZES=${NETNS_BENCH_SIZES:-20}
STORMS=${NETNS_BENCH_STORMS:-2 8 20}
LATE_MIB=${NETNS_BENCH_LATE_MIB:-50}
LINK=${NETNS_BENCH_LINK:-100mbit}
UPLINK=${NETNS_BENCH_UPLINK:-20mbit}
UPDATE_UPLINK=${NETNS_BENCH_UPDATE_UPLINK:-1mbit}
HITS=${NETNS_BENCH_HITS:-200}
MISSES=${NETNS_BENCH_MISSES:-40}
RANDOM_HITS=${NETNS_BENCH_RANDOM_HITS:-100}
CPU_GB=${NETNS_BENCH_CPU_GB:-2}
PARTS=" ${NETNS_BENCH_PARTS:-storm late cpu lan lan-random update} "
HOSTS=21 # 20 nodes, and a 21st that asks 20 holders
PEERING=$BUILD/bench/bench-peering
command -v nginx > /dev/null || { echo "SKIP: nginx is not installed (make deps)"; exit 77; }
[ -x "$PEERING" ] || { echo "bench/netns.sh: $PEERING was not built"; exit 1; }

biggest=$LATE_MIB
for s in $SIZES; do [ "$s" -gt "$biggest" ] && biggest=$s; done
# every node keeps a copy of the file of each round until its agent is restarted (fresh)
NETNS_TMPFS_SIZE=$((2048 + 3 * HOSTS * biggest))m
export NETNS_TMPFS_SIZE
NETNS_KITH_TIMEOUT=600
netns_lan "$BUILD" "$HOSTS"
# NETNS_BENCH_KEEP=DIR: the agents' logs and the drivers' full output are copied there at the end
keep_logs () {
  [ -n "${NETNS_BENCH_KEEP:-}" ] || return 0
  mkdir -p "$NETNS_BENCH_KEEP"
  for d in "$NETNS_DIR"/node*; do cp "$d/agent.log" "$NETNS_BENCH_KEEP/$(basename "$d").log" 2>/dev/null || true; done
  cp "$NETNS_DIR"/remote-*.out "$NETNS_BENCH_KEEP/" 2>/dev/null || true
}
trap 'keep_logs; netns_cleanup' EXIT
netns_online $(seq "$HOSTS")
netns_backend > /dev/null
WWW=$NETNS_DIR/www
mkdir -p "$WWW"
chmod 755 "$NETNS_DIR" "$WWW"
netns_nginx inet "$WWW" 8000
ORIGIN=$NETNS_NGINX_URL
ORIGIN_LOG=$NETNS_NGINX_LOG
# The host links' bucket holds a whole GSO packet (64 KiB and its headers): with a smaller one
# tbf cuts each into MTU-sized packets in software, on the two CPUs the agents run on, where a
# real NIC segments in hardware (TSO) and the receiving one coalesces (GRO). The rate is the
# same; what changes is that up to 128 KiB (10.5 ms at 100 Mbit/s) may leave at once after an
# idle moment, at most ~0.3 % of the 4.19 s a 50 MiB file takes over such a link. The uplinks
# keep NETNS_BURST: at 1 Mbit/s, 128 KiB would be a whole second of line time.
LINK_BURST=${NETNS_BENCH_LINK_BURST:-128kb}
for i in $(seq "$HOSTS"); do NETNS_BURST=$LINK_BURST netns_rate "h$i" "$LINK"; done
netns_rate uplink "$UPLINK"
rate_bps () { # tc's rate words as bits per second
  echo "$1" | awk '{ v = $1 + 0; u = tolower($1); sub(/^[0-9.]+/, "", u)
    m = u == "kbit" ? 1e3 : u == "mbit" ? 1e6 : u == "gbit" ? 1e9 : u == "kbps" ? 8e3 : u == "mbps" ? 8e6 : 1
    print v * m }'
}
LINK_BPS=$(rate_bps "$LINK")
UPLINK_BPS=$(rate_bps "$UPLINK")

# The agents: stock-like, metrics readable from the LAN (this LAN exists only in here).
agents_start () {
  local i
  for i in "$@"; do netns_agent "$i" "peering;update" "metrics=any"; done
  for i in "$@"; do
    # a second [peering] header: GKeyFile adds its keys to the group above
    [ -z "${NETNS_BENCH_PEERING:-}" ] ||
      printf '\n[peering]\n%b\n' "$NETNS_BENCH_PEERING" >> "$NETNS_DIR/node$i/kith-agent.conf"
  done
  netns_wait_ready "$@"
}
# Restarts every agent with an empty peering cache: each round starts from nobody holding it.
fresh () {
  local i
  for i in $(seq "$HOSTS"); do kill -TERM "${NETNS_PIDS[$i]}" 2>/dev/null || true; done
  for i in $(seq "$HOSTS"); do wait "${NETNS_PIDS[$i]}" 2>/dev/null || true; done
  rm -rf "$NETNS_DIR"/node*/state/peering-cache
  agents_start $(seq "$HOSTS")
}
# new_file NAME MIB: a random file at the origin; prints its sha256
new_file () {
  head -c $(($2 * 1024 * 1024)) /dev/urandom > "$WWW/$1"
  chmod 644 "$WWW/$1"
  sha256sum "$WWW/$1" | cut -c1-64
}
part () { case $PARTS in *" $1 "*) return 0 ;; esac; return 1; }
ratio () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

printf 'bench/netns.sh: %s hosts, links %s (bucket %s), uplink %s, sizes %s MiB, storms %s%s\n' "$HOSTS" "$LINK" \
  "$LINK_BURST" "$UPLINK" "$SIZES" "$STORMS" "${NETNS_BENCH_PEERING:+, [peering] $NETNS_BENCH_PEERING}"
agents_start $(seq "$HOSTS")

# ---- storm: N nodes, one file, at once ----
for size in $SIZES; do
  part storm || break
  bytes=$((size * 1024 * 1024))
  limit=$(awk -v b="$bytes" -v r="$UPLINK_BPS" 'BEGIN { printf "%.2f", b * 8 / r }')
  fresh
  sha=$(new_file "alone-$size.bin" "$size")
  alone=$(netns_fetch_at_once "$ORIGIN/alone-$size.bin" "$sha" /dev/null 1)
  echo "bench: storm-alone $size $alone $limit"
  for n in $STORMS; do
    fresh
    sha=$(new_file "storm-$size-$n.bin" "$size")
    t=$(netns_fetch_at_once "$ORIGIN/storm-$size-$n.bin" "$sha" /dev/null $(seq "$n"))
    sent=$(netns_nginx_bytes "$ORIGIN_LOG" "/storm-$size-$n.bin")
    echo "bench: storm $size $n $t $(ratio "$t" "$alone") $(ratio "$sent" "$bytes")"
  done
done

# ---- late joiners: 4 hold the file, 16 ask at once ----
bytes=$((LATE_MIB * 1024 * 1024))
if part late || part cpu; then
  fresh
  LATE_SHA=$(new_file "late.bin" "$LATE_MIB")
  netns_fetch_at_once "$ORIGIN/late.bin" "$LATE_SHA" /dev/null 1 > /dev/null
fi
if part late; then
  # The joiners have the file's signed piece list, as real nodes do (the update plugin's
  # catalog; here `kith fetch --pieces`): the SHA-256 of every 1 MiB, as kith-backend
  # publish lists it. They take pieces from the holders and from each other.
  python3 -c '
import hashlib, sys
with open(sys.argv[1], "rb") as f:
    for piece in iter(lambda: f.read(1 << 20), b""):
        print(hashlib.sha256(piece).hexdigest())' "$WWW/late.bin" > "$NETNS_DIR/late.pieces"
  chmod 644 "$NETNS_DIR/late.pieces"
  NETNS_FETCH_ARGS="--size=$bytes --pieces=$NETNS_DIR/late.pieces --piece-size=1048576"
  netns_fetch_at_once "$ORIGIN/late.bin" "$LATE_SHA" /dev/null 2 3 4 > /dev/null
  served_by () { local i; for i in $(seq 20); do echo "$(netns_metric "$i" kith_peering_served_bytes_total)"; done; }
  served0=$(served_by)
  busy_ticks () { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; } # user nice system irq softirq
  cpu0=$(netns_cpu_ticks "${NETNS_PIDS[@]}")
  busy0=$(busy_ticks)
  t=$(netns_fetch_at_once "$ORIGIN/late.bin" "$LATE_SHA" /dev/null $(seq 5 20))
  cpu1=$(netns_cpu_ticks "${NETNS_PIDS[@]}")
  busy1=$(busy_ticks)
  NETNS_FETCH_ARGS=
  link_time=$(awk -v b="$bytes" -v r="$LINK_BPS" 'BEGIN { printf "%.3f", b * 8 / r }')
  # what each node served during this round alone (the holders 2-4 fetched before it)
  served=$(paste -d' ' <(echo "$served0") <(served_by) | awk '{ printf " %d", $2 - $1 }')
  echo "  late: bytes served by node 1..20:$served" >&2
  pieces=""
  for r in ok missing busy dropped failed bad lied; do
    n=0
    for i in $(seq 5 20); do n=$((n + $(netns_metric "$i" kith_peering_pieces_total "result=\"$r\""))); done
    pieces="$pieces $r $n"
  done
  echo "  late: piece requests of the joiners:$pieces" >&2
  hz=$(getconf CLK_TCK)
  echo "  late: CPU seconds of the 21 agents: $(awk -v t="$((cpu1 - cpu0))" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }') in $t s;" \
    "the machine's $(nproc) CPUs busy $(awk -v t="$((busy1 - busy0))" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }') s" \
    "(everything, other work on the host too)" >&2
  if [ -n "${NETNS_BENCH_LATE_LOGS:-}" ]; then # a directory: the agents' logs of the run go there
    mkdir -p "$NETNS_BENCH_LATE_LOGS"
    for i in $(seq 20); do cp "$NETNS_DIR/node$i/agent.log" "$NETNS_BENCH_LATE_LOGS/node$i.log"; done
  fi
  echo "bench: late $LATE_MIB 4 16 $t $(ratio "$t" "$link_time") $link_time"
fi

# ---- CPU per GB served: the agent on h1 (it holds late.bin) vs nginx on h1, unshaped ----
if part cpu; then
  netns_unrate h1
  netns_unrate h2
  netns_nginx h1 "$WWW" 8001
  H1_NGINX=$NETNS_NGINX_URL
  AGENT_PID=${NETNS_PIDS[1]}
  gets=$(awk -v gb="$CPU_GB" -v b="$bytes" 'BEGIN { n = int(gb * 1e9 / b + 0.999); print n < 1 ? 1 : n }')
  # cpu_per_gb URL PID: curl on h2 GETs URL $gets times; CPU seconds of PID per 10^9 bytes
  cpu_per_gb () {
    local url=$1 pid=$2 t0 t1 k got=0
    curl_get "$url" > /dev/null # warm-up
    t0=$(netns_cpu_ticks "$pid")
    for k in $(seq "$gets"); do got=$((got + $(curl_get "$url"))); done
    t1=$(netns_cpu_ticks "$pid")
    echo "  cpu of $pid: $t0 -> $t1 ticks for $got bytes" >&2
    awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v b="$got" 'BEGIN { printf "%.3f", t / hz / (b / 1e9) }'
  }
  curl_get () {
    local n
    n=$(netns_exec h2 curl -sf --max-time 60 -o /dev/null -w '%{size_download}' "$1")
    [ "$n" = "$bytes" ] || { echo "GET $1 gave $n bytes" >&2; exit 1; }
    echo "$n"
  }
  agent_cpu=$(cpu_per_gb "http://$(netns_addr 1):6515/alias/$LATE_SHA" "$AGENT_PID")
  nginx_cpu=$(cpu_per_gb "$H1_NGINX/late.bin" "$NETNS_NGINX_PID")
  echo "bench: cpu-per-gb $agent_cpu $nginx_cpu $gets"
  NETNS_BURST=$LINK_BURST netns_rate h1 "$LINK"
  NETNS_BURST=$LINK_BURST netns_rate h2 "$LINK"
fi

# ---- discovery and miss on the LAN: h21 asks, 20 holders ----
addresses="unix:path=$NETNS_DIR/node$HOSTS/bus"
metrics="http://$(netns_addr "$HOSTS"):6515/metrics"
for i in $(seq 20); do
  addresses="$addresses,unix:path=$NETNS_DIR/node$i/bus"
  metrics="$metrics,http://$(netns_addr "$i"):6515/metrics"
done
# remote PREFIX SCENARIO COUNT: bench-peering's remote mode from h21; its lines renamed
remote () {
  local prefix=$1
  shift
  netns_exec "h$HOSTS" timeout 300 "$PEERING" --agents "$addresses" --metrics "$metrics" \
    --origin-dir "$WWW" --origin-url "$ORIGIN" "$@" > "$NETNS_DIR/remote.out"
  cp "$NETNS_DIR/remote.out" "$NETNS_DIR/remote-$prefix$1.out"
  grep -v '^  hit ' "$NETNS_DIR/remote.out" |
    sed -e 's/^bench: \(discovery\|miss\|hit-total\)/bench: lan-\1/' -e "s/^bench: /bench: $prefix/"
}
if part lan; then
  fresh
  remote "" discovery "$HITS"
  remote "" miss "$MISSES"
fi
# the same with the patent's random reply delays (the stock 40/80 ms): before instant discovery
if part lan-random; then
  saved=${NETNS_BENCH_PEERING:-}
  NETNS_BENCH_PEERING="reply-order=random${saved:+\n$saved}"
  fresh
  remote random- discovery "$RANDOM_HITS"
  remote random- miss "$MISSES"
  NETNS_BENCH_PEERING=$saved
fi

# ---- the six-file update set to 1 and then 20 nodes over the update uplink ----
if part update; then
  fresh
  netns_rate uplink "$UPDATE_UPLINK"
  release_bytes () { cat "$NETNS_RELEASE"/* | wc -c; }
  backend_bytes () { # body bytes the backend sent of the last release's files
    netns_stats | python3 -c '
import json, os, sys
names = set(sys.argv[1:])
paths = json.load(sys.stdin)["paths"]
print(sum(v["bytes"] for p, v in paths.items() if os.path.basename(p) in names))' $(ls "$NETNS_RELEASE")
  }
  # update_round I…: those nodes check at once for the release just published; prints seconds
  update_round () {
    local i pids=() start end rc=0
    start=$(date +%s.%N)
    for i in "$@"; do netns_kith "$i" update check > "$NETNS_DIR/update-$i.log" 2>&1 & pids+=($!); done
    for i in "${pids[@]}"; do wait "$i" || rc=1; done
    end=$(date +%s.%N)
    [ "$rc" = 0 ] || { tail -n 5 "$NETNS_DIR"/update-*.log >&2; exit 1; }
    for i in "$@"; do netns_current "$i" || { echo "node $i is not current" >&2; exit 1; }; done
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }'
  }
  limit=$(awk -v b="$(release_bytes)" -v r="$(rate_bps "$UPDATE_UPLINK")" 'BEGIN { printf "%.2f", b * 8 / r }')
  netns_publish 2612020800
  t=$(update_round 1)
  echo "bench: update 1 $t $(ratio "$(backend_bytes)" "$(release_bytes)") $limit"
  netns_publish 2612020900
  t=$(update_round $(seq 20))
  echo "bench: update 20 $t $(ratio "$(backend_bytes)" "$(release_bytes)") $limit"
fi
