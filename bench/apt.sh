#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/apt.sh BUILD [PACKAGES] [KIB] [UPLINK] — three Debian machines fetch the same
# package set over a shaped uplink, once with plain http:// sources, once with kith+http://.
#
# Inside the namespace LAN (tests/kith-netns.sh: h1–h3 on one bridge, the origin on the
# "Internet" host behind the gateway, the uplink shaped with tbf both ways). The origin is
# a plain HTTP server holding a signed flat repository of PACKAGES (default 12) packages of
# KIB KiB (default 256) of incompressible data. In each run the three hosts start at once:
# `apt-get update`, then `apt-get install --download-only` of every package, each apt with
# its own Dir::State/Cache/Etc (methods from the system, kith+http from BUILD).
# Prints, per run, the wall time until the last host is done and the bytes the origin sent.
# Needs root (namespaces); exits 77 where they cannot be made.
. "$(dirname "$0")/../tests/kith-netns.sh"
netns_enter 600 "$0" "$@"
set -euo pipefail

BUILD=$(cd "$1" && pwd)
PACKAGES=${2:-12}
KIB=${3:-256}
UPLINK=${4:-8mbit}
METHOD=$BUILD/interactive-ui/apt/kith+http
[ -x "$METHOD" ] || { echo "bench/apt.sh: $METHOD was not built"; exit 1; }

netns_lan "$BUILD" 3
trap netns_cleanup EXIT
netns_online 1 2 3
netns_backend > /dev/null # the agents' config names a backend; the bench does not use it
netns_rate uplink "$UPLINK"

# ---- the repository ----
REPO=$NETNS_DIR/repo
GNUPGHOME=$NETNS_DIR/gnupg
export GNUPGHOME
mkdir -p "$REPO" "$GNUPGHOME" && chmod 700 "$GNUPGHOME"
names=()
for i in $(seq "$PACKAGES"); do
  p=$NETNS_DIR/build/kith-bench-$i
  mkdir -p "$p/DEBIAN" "$p/usr/share/kith-bench-$i"
  head -c "$((KIB * 1024))" /dev/urandom > "$p/usr/share/kith-bench-$i/data"
  printf 'Package: kith-bench-%s\nVersion: 1.0\nArchitecture: all\nMaintainer: kith <bench@kith.invalid>\nDescription: bench package %s\n' \
    "$i" "$i" > "$p/DEBIAN/control"
  dpkg-deb --root-owner-group -Znone --build "$p" "$REPO/kith-bench-${i}_1.0_all.deb" > /dev/null
  names+=("kith-bench-$i")
done
(cd "$REPO" && apt-ftparchive packages . > Packages && gzip -9kn Packages &&
  apt-ftparchive release . > ../Release && mv ../Release Release)
gpg --batch --quiet --passphrase '' --quick-gen-key 'kith bench <bench@kith.invalid>' ed25519 sign never
gpg --batch --quiet --yes --clearsign -o "$REPO/InRelease" "$REPO/Release"
gpg --batch --quiet --export > "$NETNS_DIR/key.gpg"
gpgconf --kill gpg-agent
set_bytes=$(cat "$REPO"/*.deb | wc -c)

ORIGIN=http://$NETNS_INET:8000
netns_exec inet python3 -m http.server 8000 --bind "$NETNS_INET" --directory "$REPO" \
  > /dev/null 2> "$NETNS_DIR/origin.log" &
NETNS_PIDS[90]=$!
for _ in $(seq 200); do
  netns_exec h1 curl -sf --max-time 2 -o /dev/null "$ORIGIN/InRelease" && break
  sleep 0.05
done
: > "$NETNS_DIR/origin.log"

# Bytes the origin sent since the log was last emptied: the size of every file it served.
origin_bytes () {
  sed -n 's/.*"GET \([^ ]*\) HTTP[^"]*" 200 .*/\1/p' "$NETNS_DIR/origin.log" |
    while read -r path; do stat -c %s "$REPO/${path#/}"; done | awk '{ n += $1 } END { print n + 0 }'
}

# apt for host I in run RUN, its source with SCHEME (http or kith+http).
apt_dir () {
  local i=$1 run=$2 scheme=$3 d=$NETNS_DIR/apt-$2-$1 m
  mkdir -p "$d"/{state/lists/partial,cache/archives/partial,log,etc/sources.list.d,etc/apt.conf.d,etc/preferences.d,etc/trusted.gpg.d,methods}
  for m in /usr/lib/apt/methods/*; do ln -s "$m" "$d/methods/"; done
  ln -s "$METHOD" "$d/methods/kith+http"
  : > "$d/status"
  echo "deb [signed-by=$NETNS_DIR/key.gpg] $scheme://$NETNS_INET:8000/ ./" > "$d/etc/sources.list"
  cat > "$d/apt.conf" <<CONF
Dir::State "$d/state";
Dir::State::status "$d/status";
Dir::Cache "$d/cache";
Dir::Etc "$d/etc";
Dir::Log "$d/log";
Dir::Bin::Methods "$d/methods";
APT::Sandbox::User "root";
Acquire::Languages "none";
Acquire::kith::Address "unix:path=$NETNS_DIR/node$i/bus";
Acquire::kith::Parallel "${APT_BENCH_PARALLEL:-2}";
CONF
  echo "$d"
}

apt_host () {
  local i=$1 d=$2
  APT_CONFIG=$d/apt.conf netns_exec "h$i" timeout 300 apt-get -qq update &&
    APT_CONFIG=$d/apt.conf netns_exec "h$i" timeout 300 apt-get -qq -y install --download-only \
      ${APT_BENCH_KEEP:+-o Debug::pkgAcquire::Worker=1} "${names[@]}"
}

# run NAME SCHEME: the three hosts at once; prints "NAME seconds origin-bytes"
run () {
  local name=$1 scheme=$2 i pids=() dirs=() start end
  for i in 1 2 3; do dirs[$i]=$(apt_dir "$i" "$name" "$scheme"); done
  : > "$NETNS_DIR/origin.log"
  start=$(date +%s.%N)
  for i in 1 2 3; do apt_host "$i" "${dirs[$i]}" > "$NETNS_DIR/apt-$name-$i.log" 2>&1 & pids[$i]=$!; done
  for i in 1 2 3; do
    wait "${pids[$i]}" || { echo "run $name: host $i failed:"; cat "$NETNS_DIR/apt-$name-$i.log"; exit 1; }
  done
  end=$(date +%s.%N)
  for i in 1 2 3; do
    [ "$(ls "${dirs[$i]}"/cache/archives/*.deb | wc -l)" = "$PACKAGES" ] || { echo "run $name: host $i is missing packages"; exit 1; }
  done
  printf '%-10s %8.2f %12d\n' "$name" "$(awk "BEGIN { print $end - $start }")" "$(origin_bytes)"
}

echo "bench/apt.sh: 3 hosts, $PACKAGES packages of $KIB KiB ($set_bytes bytes of .deb), uplink $UPLINK"
printf '%-10s %8s %12s\n' run seconds origin-bytes
run http http
for i in 1 2 3; do netns_agent "$i" peering; done
netns_wait_ready 1 2 3
run kith kith+http
# APT_BENCH_KEEP=DIR keeps the logs of the kith run
if [ -n "${APT_BENCH_KEEP:-}" ]; then
  cp "$NETNS_DIR/origin.log" "$NETNS_DIR"/apt-kith-*.log "$APT_BENCH_KEEP"/
  for i in 1 2 3; do cp "$NETNS_DIR/node$i/agent.log" "$APT_BENCH_KEEP/agent$i.log"; done
fi
