#!/usr/bin/env bash
# make demo: start a kith agent with every plugin built, on loopback only,
# show `kith status`, and stop it. Everything lives in a temporary directory
# that is removed at the end.
set -euo pipefail

BUILD=${1:-build}
BUILD=$(cd "$BUILD" && pwd)
dir=$(mktemp -d /tmp/kith-demo-XXXXXX)
agent_pid=""

cleanup() {
  if [ -n "$agent_pid" ] && kill -0 "$agent_pid" 2>/dev/null; then
    kill -TERM "$agent_pid" 2>/dev/null || true
    wait "$agent_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

# every plugin module in the build tree, and the directories they live in
modules=$(find "$BUILD/plugins" -name 'libkith-*.so' | sort)
plugins=$(for m in $modules; do basename "$m" .so | sed 's/^libkith-//'; done | paste -sd';')
plugin_dirs=$(for m in $modules; do dirname "$m"; done | sort -u | paste -sd';')
port=$(( 20000 + RANDOM % 30000 ))

cat > "$dir/kith-agent.conf" <<CONF
[agent]
state-dir=$dir/state
plugin-dir=$plugin_dirs
plugins=$plugins
dbus=unix:path=$dir/bus
http-listen=127.0.0.1:0

# loopback only: the demo never touches a real network
[peering]
port=$port
listen=127.255.255.255
send-address=127.0.0.1
broadcast=127.255.255.255
CONF

echo "== starting kith-agent with plugins: ${plugins//;/, }"
"$BUILD/agent/kith-agent" --config "$dir/kith-agent.conf" 2> "$dir/agent.log" &
agent_pid=$!

# the agent logs a ready line once D-Bus and HTTP are up (bounded: 10 s)
for _ in $(seq 100); do
  grep -q 'ready: ' "$dir/agent.log" && break
  kill -0 "$agent_pid" 2>/dev/null || { cat "$dir/agent.log"; exit 1; }
  sleep 0.1
done
grep -q 'ready: ' "$dir/agent.log" || { echo "agent did not start"; cat "$dir/agent.log"; exit 1; }

echo "== kith status"
"$BUILD/interactive-ui/kith" --address "unix:path=$dir/bus" status

echo "== stopping the agent (SIGTERM)"
kill -TERM "$agent_pid"
wait "$agent_pid"
agent_pid=""
echo "== agent stopped cleanly"
