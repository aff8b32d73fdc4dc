# SPDX-License-Identifier: LGPL-2.1-or-later
# kith-netns.sh — the FIG. 1 (docs/architecture.md) LAN of real hosts, inside a private network + mount namespace
# (sourced, bash). Nothing touches this machine's interfaces: the whole world below exists
# only inside `unshare -n -m`, under timeout(1), and vanishes when the script exits (or is
# killed): namespaces, addresses, the tmpfs holding every state dir.
#
#   netns_enter SECONDS "$0" "$@"   first line of a script: re-runs it inside
#                                   `timeout SECONDS unshare -n -m -p --propagation private`
#                                   (the PID namespace kills every leftover process);
#                                   where namespaces cannot be made, prints one line and
#                                   exits 77 (skip). Inside, returns and the script goes on.
#   netns_lan BUILD N               the topology (below) + N hosts; NETNS_DIR is a tmpfs
#                                   of NETNS_TMPFS_SIZE (default 512m)
#   netns_online I…                 route hosts I… to the Internet through the gateway
#   netns_rate LINK RATE            tbf on both ends of LINK (hI, or "uplink" = gw–inet);
#                                   RATE as tc takes it (e.g. 8mbit, 1mbps); its bucket is
#                                   NETNS_BURST (32kb: tbf cuts every larger GSO packet into
#                                   MTU-sized ones, in software, on this host's CPUs)
#   netns_unrate LINK               takes the tbf off both ends of LINK again
#   netns_exec HOST CMD…            run CMD in HOST (h1…hN, gw, inet)
#   netns_backend [ARGS…]           kith-backend init + sample release + serve (HTTPS, a
#                                   certificate from its CA for 10.77.1.2) on the inet host
#                                   (ARGS go to serve); sets NETNS_BACKEND_URL, _VENDOR
#   netns_publish STAMP             publish a further sample release
#   netns_agent I [PLUGINS] [EXTRA] start an agent on host I with a stock-like config
#                                   (HTTP on hI:6515, peering 1967 on the wildcard,
#                                   broadcast 10.77.0.255); EXTRA lines go into [agent]
#   netns_wait_ready I…             wait until those agents say ready
#   netns_kill I                    SIGKILL the agent of host I
#   netns_kith I ARGS…              the kith CLI against the agent of host I (bounded by
#                                   NETNS_KITH_TIMEOUT seconds, default 120)
#   netns_files_requests NAME       how many times the backend served /files/NAME
#   netns_current I                 true when node I installed the last published release
#   netns_nginx HOST ROOT PORT      nginx (one process, sendfile) in HOST serving ROOT on the
#                                   host's address; sets NETNS_NGINX_URL, NETNS_NGINX_PID and
#                                   NETNS_NGINX_LOG (one line per response: path status bytes)
#   netns_nginx_bytes LOG [PATH]    body bytes nginx sent (for PATH only, if given)
#   netns_fetch_at_once URL SHA OUT I…  `kith fetch` of URL (sha256 SHA) on nodes I… started
#                                   together (NETNS_FETCH_ARGS: more options of kith fetch),
#                                   into OUT/fetch-I (OUT=/dev/null: discarded);
#                                   prints the seconds until the last is done, fails if any did
#   netns_metric I NAME [LABELS]    a counter from node I's /metrics (the agent started with
#                                   EXTRA "metrics=any"), summed over the label sets that
#                                   contain the LABELS substring; 0 if absent
#   netns_cpu_ticks PID…            utime + stime of those processes, in clock ticks
#   netns_cleanup                   (trap EXIT) stop everything, remove NETNS_DIR
#
# Daemons are started with nsenter, not `ip netns exec` (through a function or not): iproute2
# forks and waits, so $! would be ip's pid, and a signal to it would leave the daemon running.
#
# Topology:
#
#      h1 10.77.0.11 ─┐                        gw 10.77.0.1 │ 10.77.1.1 ── inet 10.77.1.2
#      h2 10.77.0.12 ─┤ bridge kbr0 (outer ns) ─────────────┘              (the backend)
#      …  10.77.0.1N ─┘   broadcast 10.77.0.255
#
# Only hosts named in netns_online have a default route; the others get "Network is
# unreachable" for anything off the LAN. Agents bind the wildcard and broadcast to the
# subnet — allowed only because this subnet exists nowhere but inside the namespace.

NETNS_SUBNET=10.77.0
NETNS_BCAST=10.77.0.255
NETNS_GW=10.77.0.1
NETNS_INET=10.77.1.2

netns_enter () {
  local seconds=$1; shift
  if [ "${KITH_NETNS_INSIDE:-}" = 1 ]; then
    return 0
  fi
  local why=""
  if [ "$(id -u)" != 0 ]; then
    why="not root"
  elif ! command -v unshare > /dev/null || ! command -v ip > /dev/null; then
    why="unshare or ip missing"
  elif ! unshare -n -m -p --fork --mount-proc --propagation private sh -c \
      'mkdir -p /run/netns && mount -t tmpfs none /run/netns && ip link add kbr0 type bridge && ip netns add probe' \
      > /dev/null 2>&1; then
    why="cannot create network namespaces here"
  fi
  if [ -n "$why" ]; then
    echo "SKIP: namespace LAN not available ($why)"
    exit 77
  fi
  # a PID namespace too: when the script (its init) ends, the kernel kills whatever is left
  KITH_NETNS_INSIDE=1 exec timeout -k 10 "$seconds" \
    unshare -n -m -p --fork --mount-proc --propagation private bash "$@"
}

# Waits (bounded: 20 s) until FILE holds PATTERN, or fails if PID died.
netns_wait_for () {
  local file=$1 pattern=$2 pid=${3:-}
  for _ in $(seq 400); do
    grep -q -- "$pattern" "$file" 2>/dev/null && return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "process $pid exited:"; tail -n 30 "$file"; return 1
    fi
    sleep 0.05
  done
  echo "timed out waiting for '$pattern' in $file"; tail -n 30 "$file"; return 1
}

netns_exec () {
  local host=$1; shift
  ip netns exec "$host" "$@"
}

# veth pair: NAME in namespace NS with ADDR, its peer NAME-br on the bridge
netns_link_to_bridge () {
  local ns=$1 name=$2 addr=$3
  ip link add "$name" type veth peer name "$name-br"
  ip link set "$name" netns "$ns"
  ip link set "$name-br" master kbr0 up
  ip -n "$ns" addr add "$addr/24" broadcast "$NETNS_BCAST" dev "$name"
  ip -n "$ns" link set "$name" up
}

netns_lan () {
  NETNS_BUILD=$(cd "$1" && pwd)
  NETNS_N=$2
  NETNS_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  NETNS_PIDS=()
  NETNS_EXTRA_PIDS=()
  NETNS_BACKEND_PID=""
  NETNS_DIR=$(mktemp -d /tmp/kith-netns-XXXXXX)
  mount -t tmpfs -o "size=${NETNS_TMPFS_SIZE:-512m}" none "$NETNS_DIR"
  mkdir -p /run/netns
  mount -t tmpfs none /run/netns
  ip link set lo up
  ip link add kbr0 type bridge
  ip link set kbr0 up
  local i
  for host in gw inet; do ip netns add "$host"; ip -n "$host" link set lo up; done
  netns_link_to_bridge gw gw "$NETNS_GW"
  ip link add uplink netns gw type veth peer name uplink netns inet
  ip -n gw addr add 10.77.1.1/24 dev uplink
  ip -n inet addr add "$NETNS_INET/24" dev uplink
  ip -n gw link set uplink up
  ip -n inet link set uplink up
  ip -n inet route add "$NETNS_SUBNET.0/24" via 10.77.1.1
  ip netns exec gw sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
  for i in $(seq "$NETNS_N"); do
    ip netns add "h$i"
    ip -n "h$i" link set lo up
    netns_link_to_bridge "h$i" "h$i" "$(netns_addr "$i")"
  done
}

netns_addr () { echo "$NETNS_SUBNET.$((10 + $1))"; }

netns_online () {
  local i
  for i in "$@"; do ip -n "h$i" route add default via "$NETNS_GW"; done
}

netns_rate () {
  local link=$1 rate=$2
  if [ "$link" = uplink ]; then
    ip netns exec gw tc qdisc replace dev uplink root tbf rate "$rate" burst "${NETNS_BURST:-32kb}" latency 1s
    ip netns exec inet tc qdisc replace dev uplink root tbf rate "$rate" burst "${NETNS_BURST:-32kb}" latency 1s
  else
    ip netns exec "$link" tc qdisc replace dev "$link" root tbf rate "$rate" burst "${NETNS_BURST:-32kb}" latency 1s
    tc qdisc replace dev "$link-br" root tbf rate "$rate" burst "${NETNS_BURST:-32kb}" latency 1s
  fi
}

netns_unrate () {
  local link=$1
  if [ "$link" = uplink ]; then
    ip netns exec gw tc qdisc del dev uplink root 2>/dev/null || true
    ip netns exec inet tc qdisc del dev uplink root 2>/dev/null || true
  else
    ip netns exec "$link" tc qdisc del dev "$link" root 2>/dev/null || true
    tc qdisc del dev "$link-br" root 2>/dev/null || true
  fi
}

netns_backend () {
  local backend=$NETNS_BUILD/backend/kith-backend
  NETNS_VENDOR=$NETNS_DIR/vendor
  "$backend" init "$NETNS_VENDOR" > /dev/null
  netns_publish "${NETNS_STAMP:-2611211200}"
  nsenter --net=/run/netns/inet -- "$backend" serve "$NETNS_VENDOR" --listen "$NETNS_INET:8080" "$@" \
    > "$NETNS_DIR/backend.out" 2> "$NETNS_DIR/backend.log" &
  NETNS_BACKEND_PID=$!
  netns_wait_for "$NETNS_DIR/backend.out" ' on https://' "$NETNS_BACKEND_PID"
  NETNS_BACKEND_URL=$(sed -n 's/.* on \(http[^ ]*\).*/\1/p' "$NETNS_DIR/backend.out")
}

netns_publish () {
  local stamp=$1
  NETNS_RELEASE=$NETNS_DIR/release-$stamp
  sh "$NETNS_SRC/data/make-sample-release.sh" "$NETNS_RELEASE" "$stamp" > /dev/null
  "$NETNS_BUILD/backend/kith-backend" publish "$NETNS_VENDOR" "$NETNS_RELEASE" > /dev/null
}

netns_agent () {
  local i=$1 plugins=${2:-peering;update;upload} extra=${3:-} d=$NETNS_DIR/node$1 dirs="" p
  mkdir -p "$d"
  for p in ${plugins//;/ }; do dirs="$dirs${dirs:+;}$NETNS_BUILD/plugins/$p"; done
  cat > "$d/kith-agent.conf" <<CONF
[agent]
state-dir=$d/state
plugin-dir=$dirs
plugins=$plugins
dbus=unix:path=$d/bus
http-listen=${NETNS_HTTP_LISTEN:-$(netns_addr "$i")}:6515
backend-url=$NETNS_BACKEND_URL
trust-anchor=$NETNS_VENDOR/ca.pem
$extra

[peering]
port=1967
listen=0.0.0.0
send-address=0.0.0.0
broadcast=${NETNS_BROADCAST:-$NETNS_BCAST}
CONF
  # checks when asked (kith update check), not on the 5-minute timer
  case ";$plugins;" in *";update;"*) printf '\n[update]\nfirst-check=1h\n' >> "$d/kith-agent.conf" ;; esac
  case ";$plugins;" in *";upload;"*) printf '\n[upload]\nscan=200ms\n' >> "$d/kith-agent.conf" ;; esac
  nsenter --net="/run/netns/h$i" -- "$NETNS_BUILD/agent/kith-agent" --config "$d/kith-agent.conf" ${NETNS_AGENT_ARGS:-} \
    2> "$d/agent.log" &
  NETNS_PIDS[$i]=$!
}

netns_wait_ready () {
  local i
  for i in "$@"; do
    netns_wait_for "$NETNS_DIR/node$i/agent.log" 'ready: ' "${NETNS_PIDS[$i]}" || return 1
  done
}

netns_kill () {
  kill -KILL "${NETNS_PIDS[$1]}" 2>/dev/null || true
  wait "${NETNS_PIDS[$1]}" 2>/dev/null || true
  unset "NETNS_PIDS[$1]"
}

netns_kith () {
  local i=$1; shift
  timeout "${NETNS_KITH_TIMEOUT:-120}" "$NETNS_BUILD/interactive-ui/kith" --address "unix:path=$NETNS_DIR/node$i/bus" "$@"
}

netns_stats () {
  netns_exec inet curl -s --max-time 10 --cacert "$NETNS_VENDOR/ca.pem" "$NETNS_BACKEND_URL/stats"
}

netns_files_requests () {
  netns_stats | tr -d ' \n' | grep -o "\"/files/$1\":{[^}]*}" |
    sed 's/.*"requests":\([0-9]*\).*/\1/' | awk '{ n += $1 } END { print n + 0 }'
}

# true when node I installed exactly the files of the last published release
netns_current () {
  local d=$NETNS_DIR/node$1/state/update/signatures/current
  [ -d "$d" ] || return 1
  [ "$(cd "$d" && sha256sum -- * | cut -c1-64 | sort)" = \
    "$(cd "$NETNS_RELEASE" && sha256sum -- * | cut -c1-64 | sort)" ]
}

netns_host_addr () {
  case $1 in
    inet) echo "$NETNS_INET" ;;
    gw) echo "$NETNS_GW" ;;
    h*) netns_addr "${1#h}" ;;
  esac
}

# netns_nginx_run HOST DIR URL SERVER [FORMAT [CURL-OPTION...]]: a stock nginx in HOST, its
# prefix, config and logs in DIR (access.log lines in FORMAT, '$uri $status $body_bytes_sent'
# unless given), serving the directives SERVER in its one server block. Returns once URL
# answers curl in HOST (with the CURL-OPTIONs, such as --cacert), 1 if nginx does not start.
# Sets NETNS_NGINX_LOG and NETNS_NGINX_PID; netns_cleanup stops it.
netns_nginx_run () {
  # shellcheck disable=SC2016 # nginx's variables, not the shell's
  local host=$1 d=$2 url=$3 server=$4 format=${5:-'$uri $status $body_bytes_sent'} bin
  shift $(( $# < 5 ? $# : 5 ))
  bin=$(command -v nginx || echo /usr/sbin/nginx)
  mkdir -p "$d/tmp"
  NETNS_NGINX_LOG=$d/access.log
  cat > "$d/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 256; }
http {
  log_format kith '$format';
  access_log $NETNS_NGINX_LOG kith;
  sendfile on;
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fastcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
  default_type application/octet-stream;
  server {
$server
  }
}
CONF
  # nsenter: $! is nginx itself, which netns_cleanup stops
  nsenter --net="/run/netns/$host" -- "$bin" -p "$d" -c "$d/nginx.conf" 2> "$d/stderr" &
  NETNS_NGINX_PID=$!
  NETNS_EXTRA_PIDS+=("$NETNS_NGINX_PID")
  for _ in $(seq 200); do
    netns_exec "$host" curl -s -o /dev/null --max-time 2 "$@" "$url" && return 0
    kill -0 "$NETNS_NGINX_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "nginx did not start in $host:"; cat "$d/stderr" "$d/error.log" 2>/dev/null; return 1
}

# netns_nginx HOST ROOT PORT: nginx in HOST serving the directory ROOT on its address, PORT;
# NETNS_NGINX_URL is its URL.
netns_nginx () {
  local host=$1 root=$2 port=$3 addr
  addr=$(netns_host_addr "$host")
  NETNS_NGINX_URL=http://$addr:$port
  netns_nginx_run "$host" "$NETNS_DIR/nginx-$host" "$NETNS_NGINX_URL/" \
    "    listen $addr:$port; root $root; tcp_nopush on;"
}

netns_nginx_bytes () {
  awk -v path="${2:-}" 'path == "" || $1 == path { n += $3 } END { print n + 0 }' "$1"
}

netns_fetch_at_once () {
  local url=$1 sha=$2 out=$3 i pids=() start rc=0 dest
  shift 3
  start=$(date +%s.%N)
  for i in "$@"; do
    dest=$out/fetch-$i
    [ "$out" = /dev/null ] && dest=/dev/null
    # shellcheck disable=SC2086 # NETNS_FETCH_ARGS: more options of kith fetch, split on blanks
    ( netns_kith "$i" fetch --sha256="$sha" ${NETNS_FETCH_ARGS:-} -o "$dest" "$url" > "$NETNS_DIR/fetch-$i.log" 2>&1 &&
        date +%s.%N > "$NETNS_DIR/fetch-$i.end" ) &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || rc=1; done
  if [ "$rc" != 0 ]; then
    for i in "$@"; do
      [ -s "$NETNS_DIR/fetch-$i.end" ] || { echo "fetch on node $i failed:"; cat "$NETNS_DIR/fetch-$i.log"; }
    done
    return 1
  fi
  for i in "$@"; do cat "$NETNS_DIR/fetch-$i.end"; rm -f "$NETNS_DIR/fetch-$i.end"; done |
    awk -v start="$start" '{ if ($1 > last) last = $1 } END { printf "%.3f\n", last - start }'
}

netns_metric () {
  local i=$1 name=$2 labels=${3:-}
  netns_exec "h$i" curl -s --max-time 10 "http://$(netns_addr "$i"):6515/metrics" |
    awk -v name="$name" -v labels="$labels" '
      $1 == name || index($1, name "{") == 1 { if (labels == "" || index($1, labels)) n += $2 }
      END { printf "%.0f\n", n }'
}

netns_cpu_ticks () {
  local pid n=0
  for pid in "$@"; do
    # after "(comm)": utime and stime are the 12th and 13th fields
    n=$((n + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')))
  done
  echo "$n"
}

netns_cleanup () {
  local pid
  for pid in "${NETNS_PIDS[@]}" "${NETNS_EXTRA_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  [ -n "${NETNS_BACKEND_PID:-}" ] && kill -TERM "$NETNS_BACKEND_PID" 2>/dev/null
  for pid in "${NETNS_PIDS[@]}" "${NETNS_EXTRA_PIDS[@]}" ${NETNS_BACKEND_PID:-}; do wait "$pid" 2>/dev/null || true; done
  NETNS_PIDS=()
  NETNS_EXTRA_PIDS=()
  if [ -n "${NETNS_DIR:-}" ]; then
    umount "$NETNS_DIR" 2>/dev/null || true
    rmdir "$NETNS_DIR" 2>/dev/null || true
  fi
}
