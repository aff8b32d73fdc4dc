#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make demo, the upload story (FIG. 9; docs/architecture.md): an offline node's report reaches the vendor
# backend through a connected peer the backend certified, and the node keeps the report
# until the backend's signed receipt is back. Loopback only; ends by itself; everything
# lives in a temporary directory removed at the end.
set -euo pipefail

BUILD=${1:-build}
. "$(dirname "$0")/kith-lan.sh"
lan_init "$BUILD" "$(mktemp -d /tmp/kith-demo-upload-XXXXXX)"
trap lan_cleanup EXIT

# node I: connected (enrolls, serves upload tasks) or offline ([agent] offline=true)
upload_agent_start () {
  local i=$1 mode=$2 d=$LAN_DIR/node$1 extra=""
  mkdir -p "$d"
  if [ "$mode" = connected ]; then
    extra="enrollment-token=$(cat "$LAN_VENDOR/enrollment-token")"
  else
    extra="offline=true"
  fi
  cat > "$d/kith-agent.conf" <<CONF
[agent]
state-dir=$d/state
plugin-dir=$LAN_BUILD/plugins/peering;$LAN_BUILD/plugins/upload
plugins=peering;upload
dbus=unix:path=$d/bus
http-listen=127.0.0.1:0
backend-url=$LAN_BACKEND_URL
trust-anchor=$LAN_VENDOR/ca.pem
$extra

[peering]
port=$LAN_PORT
listen=127.255.255.255
send-address=127.0.0.1
broadcast=127.255.255.255

[upload]
scan=200ms
CONF
  "$LAN_BUILD/agent/kith-agent" --config "$d/kith-agent.conf" 2> "$d/agent.log" &
  LAN_PIDS+=($!)
  lan_wait_for "$d/agent.log" 'ready: ' "${LAN_PIDS[-1]}"
}

echo "== vendor backend (CA, enrollment token, POST /enroll and /upload)"
lan_backend 1000000
echo "   $LAN_BACKEND_URL"

echo "== node1: connected — enrolls for a short-lived node certificate"
upload_agent_start 1 connected
lan_wait_for "$LAN_DIR/node1/agent.log" 'enrolled' "${LAN_PIDS[0]}"
grep -o 'enrolled.*' "$LAN_DIR/node1/agent.log" | sed 's/^/   /'

echo "== node2: offline=true — never talks to the backend itself"
upload_agent_start 2 offline

report=$LAN_DIR/scan-report.txt
{ echo "kith demo scan report"; date -u; seq 1 2000; } > "$report"
echo "== kith upload $(basename "$report") on node2 ($(wc -c < "$report") bytes): asks the LAN, checks the"
echo "   offer's certificate and proof of possession, sends, waits for the backend's receipt"
lan_kith 2 upload "$report" 2>/dev/null | sed 's/^/   receipt: /'

echo "== node2: kith upload status"
lan_kith 2 upload status | sed 's/^/   /'
echo "== node2's log: how it went"
grep -E 'delivered|blacklisted|refused' "$LAN_DIR/node2/agent.log" | sed 's/.*Message: [0-9:.]*: /   /'
echo "== the backend holds it once, with the receipt it signed"
ls "$LAN_VENDOR/uploads" | sed 's/^/   uploads\//'
cmp -s "$report" "$LAN_VENDOR/uploads/$(ls "$LAN_VENDOR/uploads" | grep -v receipt | head -1)" &&
  echo "   stored bytes = the report's bytes"
echo "== stopping (SIGTERM) and cleaning up"
