#!/usr/bin/env bash
# bench/bench-update.sh BUILD [N…] — time to bring N nodes current with the sample release
# (2.29 MB) over a 1 MB/s backend uplink: with kith (N agents, `kith update check` on all at
# once), against the same N nodes each fetching the release from the backend alone (N
# concurrent plain HTTP GETs of every file, curl). Also backend bytes ÷ release bytes.
# Targets (issue 4): kith N=10 ≤ 1.2 × kith N=1; backend bytes ÷ release bytes = 1.00.
# Loopback only; a fresh backend and fresh agents per run; agent start-up is not timed.
# Prints "bench: update-kith N SECONDS RATIO", "bench: update-alone N SECONDS RATIO" lines
# (for bench/run.sh) and a table.
set -euo pipefail

BUILD=${1:-build}
shift || true
SIZES=(${@:-1 5 10})
RATE=${KITH_BENCH_RATE:-1000000}
. "$(dirname "$0")/../tests/kith-lan.sh"

now_ns () { date +%s%N; }

# kith: N agents, one check each, all at once
bench_kith () {
  local n=$1 start end pids=()
  lan_init "$BUILD" "$(mktemp -d /tmp/kith-bench-update-XXXXXX)"
  lan_backend "$RATE"
  lan_agents "$n"
  start=$(now_ns)
  for i in $(seq "$n"); do
    lan_kith "$i" update check --json > "$LAN_DIR/check-$i.json" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  end=$(now_ns)
  for i in $(seq "$n"); do
    grep -q '"result" : "installed catalog 1' "$LAN_DIR/check-$i.json" ||
      { echo "node $i did not install:"; cat "$LAN_DIR/check-$i.json"; exit 1; }
  done
  awk -v n="$n" -v ns=$((end - start)) -v b="$(lan_files_bytes)" -v r="$LAN_RELEASE_BYTES" \
    'BEGIN { printf "bench: update-kith %d %.2f %.2f\n", n, ns / 1e9, b / r }'
  lan_cleanup
}

# alone: N nodes, each GETs every file of the release from the backend itself
bench_alone () {
  local n=$1 start end pids=() files
  lan_init "$BUILD" "$(mktemp -d /tmp/kith-bench-update-XXXXXX)"
  lan_backend "$RATE"
  files=$(cd "$LAN_RELEASE" && ls)
  start=$(now_ns)
  for i in $(seq "$n"); do
    (for f in $files; do curl -sf -o /dev/null "$LAN_BACKEND_URL/files/$f"; done) &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  end=$(now_ns)
  awk -v n="$n" -v ns=$((end - start)) -v b="$(lan_files_bytes)" -v r="$LAN_RELEASE_BYTES" \
    'BEGIN { printf "bench: update-alone %d %.2f %.2f\n", n, ns / 1e9, b / r }'
  lan_cleanup
}

trap 'lan_cleanup 2>/dev/null || true' EXIT
results=$(mktemp /tmp/kith-bench-update-results-XXXXXX)
for n in "${SIZES[@]}"; do
  bench_kith "$n" | tee -a "$results"
  bench_alone "$n" | tee -a "$results"
done

echo
printf '| %-3s | %-13s | %-15s | %-25s | %-25s |\n' "N" "kith s" "alone s" "backend/release kith" "backend/release alone"
printf '| %-3s | %-13s | %-15s | %-25s | %-25s |\n' "---" "---" "---" "---" "---"
for n in "${SIZES[@]}"; do
  awk -v n="$n" '$2 == "update-kith" && $3 == n { ks = $4; kr = $5 }
                 $2 == "update-alone" && $3 == n { as = $4; ar = $5 }
                 END { printf "| %-3d | %-13s | %-15s | %-25s | %-25s |\n", n, ks, as, kr, ar }' "$results"
done
awk '$2 == "update-kith" { t[$3] = $4 } END {
  if (1 in t && 10 in t) printf "\nkith N=10 / N=1: %.2fx (target <= 1.2x)\n", t[10] / t[1] }' "$results"
rm -f "$results"
