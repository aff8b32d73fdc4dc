# SPDX-License-Identifier: LGPL-2.1-or-later
# kith-lan.sh — a vendor backend and N agents on loopback, for tests/demo.sh
# (sourced, bash). Everything lives under $LAN_DIR and stops in
# lan_cleanup; nothing binds or sends outside 127.0.0.0/8.
#
#   lan_init BUILD DIR                 paths, a random peering port
#   lan_backend RATE [STAMP]           init + sample release + publish + serve --rate-limit RATE
#   lan_agents N                       start agents node1..nodeN (peering, update), wait ready
#   lan_kith I ARGS…                   the kith CLI against node I
#   lan_files_bytes                    body bytes of /files/* the backend served (GET /stats)
#   lan_cleanup                        stop everything, remove $LAN_DIR

lan_init () {
  LAN_BUILD=$(cd "$1" && pwd)
  LAN_DIR=$2
  LAN_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  LAN_PORT=$(( 20000 + RANDOM % 30000 ))
  LAN_PIDS=()
  LAN_BACKEND_PID=""
  mkdir -p "$LAN_DIR"
}

# Waits (bounded: 10 s) until FILE holds PATTERN, or fails if PID died.
lan_wait_for () {
  local file=$1 pattern=$2 pid=$3
  for _ in $(seq 200); do
    grep -q "$pattern" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { echo "process $pid exited:"; cat "$file" "${file%.*}.log" 2>/dev/null; return 1; }
    sleep 0.05
  done
  echo "timed out waiting for '$pattern' in $file"; return 1
}

lan_backend () {
  local rate=$1 stamp=${2:-2611211200}
  local backend=$LAN_BUILD/backend/kith-backend
  LAN_VENDOR=$LAN_DIR/vendor
  LAN_RELEASE=$LAN_DIR/release-$stamp
  [ -d "$LAN_VENDOR" ] || "$backend" init "$LAN_VENDOR" > /dev/null
  sh "$LAN_SRC/data/make-sample-release.sh" "$LAN_RELEASE" "$stamp" > /dev/null
  "$backend" publish "$LAN_VENDOR" "$LAN_RELEASE" > /dev/null
  LAN_RELEASE_BYTES=$(cat "$LAN_RELEASE"/* | wc -c)
  "$backend" serve "$LAN_VENDOR" --listen 127.0.0.1:0 --rate-limit "$rate" \
    > "$LAN_DIR/backend.out" 2> "$LAN_DIR/backend.log" &
  LAN_BACKEND_PID=$!
  lan_wait_for "$LAN_DIR/backend.out" ' on https://' "$LAN_BACKEND_PID"
  LAN_BACKEND_URL=$(sed -n 's/.* on \(https:[^ ]*\).*/\1/p' "$LAN_DIR/backend.out")
}

lan_agent_start () {
  local i=$1 d=$LAN_DIR/node$1
  mkdir -p "$d"
  cat > "$d/kith-agent.conf" <<CONF
[agent]
state-dir=$d/state
plugin-dir=$LAN_BUILD/plugins/peering;$LAN_BUILD/plugins/update
plugins=peering;update
dbus=unix:path=$d/bus
http-listen=127.0.0.1:0
backend-url=$LAN_BACKEND_URL
trust-anchor=$LAN_VENDOR/ca.pem

# loopback only: listeners on lo's broadcast address, senders on 127.0.0.1
[peering]
port=$LAN_PORT
listen=127.255.255.255
send-address=127.0.0.1
broadcast=127.255.255.255

# checks happen when asked (kith update check), not on the 5-minute timer
[update]
first-check=1h
CONF
  "$LAN_BUILD/agent/kith-agent" --config "$d/kith-agent.conf" 2> "$d/agent.log" &
  LAN_PIDS+=($!)
}

lan_agents () {
  local n=$1
  for i in $(seq "$n"); do lan_agent_start "$i"; done
  for i in $(seq "$n"); do lan_wait_for "$LAN_DIR/node$i/agent.log" 'ready: ' "${LAN_PIDS[$((i - 1))]}"; done
}

lan_kith () {
  local i=$1; shift
  "$LAN_BUILD/interactive-ui/kith" --address "unix:path=$LAN_DIR/node$i/bus" "$@"
}

lan_files_bytes () {
  # {"paths": {"/files/NAME": {"requests": n, "bytes": n}, …}, …} without a JSON tool
  curl -s --cacert "$LAN_VENDOR/ca.pem" "$LAN_BACKEND_URL/stats" | tr -d ' \n' | grep -o '"/files/[^"]*":{[^}]*}' |
    sed 's/.*"bytes":\([0-9]*\).*/\1/' | awk '{ sum += $1 } END { print sum + 0 }'
}

lan_stop_agents () {
  for pid in "${LAN_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${LAN_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  LAN_PIDS=()
}

lan_stop_backend () {
  if [ -n "$LAN_BACKEND_PID" ]; then
    kill -TERM "$LAN_BACKEND_PID" 2>/dev/null || true
    wait "$LAN_BACKEND_PID" 2>/dev/null || true
    LAN_BACKEND_PID=""
  fi
}

lan_cleanup () {
  lan_stop_agents
  lan_stop_backend
  rm -rf "$LAN_DIR"
}
