#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-install.sh SOURCE-DIR — kith as a distribution packages it.
#
# A fresh build of SOURCE-DIR with --prefix=/usr is installed into a DESTDIR. The
# installed files are checked as they are (paths, unit exposure, man pages, the SDK),
# then, inside a private mount and network namespace, the DESTDIR is laid over /usr and
# /etc and the installed agent runs as the kith user with its installed config and
# plugins on a private system bus that loads the installed D-Bus policy; other uids
# call it to check who may do what.
set -eu

src=$(cd "$1" && pwd)
bus_pid=
agent_pid=
cleanup () {
  [ -z "$agent_pid" ] || kill "$agent_pid" 2>/dev/null || true
  [ -z "$bus_pid" ] || kill "$bus_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
fail () { echo "FAIL: $*" >&2; exit 1; }
say () { echo "test-install: $*"; }

# ---- build and install -------------------------------------------------------------
if [ -z "${KITH_INSIDE_NS:-}" ]; then
  tmp=$(mktemp -d /tmp/kith-install-XXXXXX)
  trap cleanup EXIT
  say "building $src with --prefix=/usr"
  meson setup "$tmp/build" "$src" --prefix=/usr -Dbuildtype=plain -Dtests=false \
    > "$tmp/setup.log" 2>&1 || { cat "$tmp/setup.log"; fail "meson setup"; }
  meson compile -C "$tmp/build" > "$tmp/compile.log" 2>&1 || { tail -30 "$tmp/compile.log"; fail "compile"; }
  meson install -C "$tmp/build" --destdir "$tmp/root" > "$tmp/install.log" 2>&1 ||
    { tail -30 "$tmp/install.log"; fail "meson install"; }
else
  tmp=$KITH_TMP
fi
root=$tmp/root

conf=$root/etc/kith/kith-agent.conf
unit=$root/usr/lib/systemd/system/kith-agent.service
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
if [ -z "${KITH_INSIDE_NS:-}" ]; then
[ -f "$conf" ] || fail "no $conf"
[ -f "$unit" ] || fail "no $unit"
for f in "$conf" "$unit" "$root/usr/share/dbus-1/system-services/org.kith.Agent1.service" \
         "$root/usr/lib/sysusers.d/kith.conf" "$root/usr/share/dbus-1/system.d/org.kith.Agent1.conf"; do
  [ -f "$f" ] || fail "not installed: $f"
  ! grep -n '@[a-z_]*@' "$f" || fail "$f keeps an unsubstituted @variable@"
done

# the plugin directory the installed config names is where meson put the plugins
plugindir=$(sed -n 's/^#plugin-dir=//p' "$conf")
case $plugindir in /usr/lib/*/plugins) ;; *) fail "plugin-dir in $conf is '$plugindir'" ;; esac
for p in peering update upload; do
  [ -f "$root$plugindir/libkith-$p.so" ] || fail "$conf says plugin-dir=$plugindir, but $root$plugindir/libkith-$p.so is missing"
done
[ -x "$root$exec_start" ] || fail "ExecStart=$exec_start is not installed"
grep -q "^Exec=$exec_start " "$root/usr/share/dbus-1/system-services/org.kith.Agent1.service" ||
  fail "D-Bus activation file does not start $exec_start"
grep -q '^SystemdService=kith-agent.service$' "$root/usr/share/dbus-1/system-services/org.kith.Agent1.service" ||
  fail "D-Bus activation file has no SystemdService="
grep -q '^u kith ' "$root/usr/lib/sysusers.d/kith.conf" || fail "sysusers.d does not create kith"
LD_LIBRARY_PATH=$root${plugindir%/plugins} "$root$exec_start" --version | grep -q '^kith-agent ' ||
  fail "kith-agent --version"

libdir=${plugindir%/kith/plugins}
LD_LIBRARY_PATH=$root$libdir "$root/usr/bin/kith" --version | grep -q '^kith ' || fail "kith --version"
LD_LIBRARY_PATH=$root$libdir:$root$libdir/kith "$root/usr/bin/kith-backend" --version | grep -q '^kith-backend ' ||
  fail "kith-backend --version"

# man pages: installed, rendered by man -l without warnings, every config key documented
for page in man1/kith.1 man8/kith-agent.8 man5/kith-agent.conf.5 man1/kith-backend.1; do
  f=$root/usr/share/man/$page
  [ -f "$f" ] || fail "man page not installed: $f"
  ! grep -n '@[a-z_]*@' "$f" || fail "$f keeps an unsubstituted @variable@"
  if command -v man > /dev/null 2>&1; then
    MANWIDTH=80 man --warnings -l "$f" > "$tmp/page.txt" 2> "$tmp/page.err" || fail "man -l $f"
    [ ! -s "$tmp/page.err" ] || { cat "$tmp/page.err"; fail "man -l $f warns"; }
    grep -q '^NAME' "$tmp/page.txt" || fail "man -l $f has no NAME section"
  fi
done
[ -n "$(command -v man)" ] || say "man not installed: pages not rendered"
grep -q 'kith-agent.conf(5)' "$conf" || fail "$conf does not point to kith-agent.conf(5)"
for key in $(sed -n 's/^#\{0,1\}\([a-z][a-z-]*\)=.*/\1/p' "$conf"); do
  grep -q "^\.BI $key=" "$root/usr/share/man/man5/kith-agent.conf.5" ||
    fail "key $key of the stock config is not documented in kith-agent.conf(5)"
done

# ... and every key the code knows
for key in $(awk '/keys\[\] = \{/,/\};/' "$src"/agent/kith-agent.c "$src"/plugins/*/kith-*.c |
             grep -o '"[a-z][a-z-]*"' | tr -d '"' | sort -u); do
  grep -q "^\.BI $key=" "$root/usr/share/man/man5/kith-agent.conf.5" ||
    fail "config key $key is not documented in kith-agent.conf(5)"
done

# bash completion
completion=$root/usr/share/bash-completion/completions/kith
[ -f "$completion" ] || fail "no bash completion"
bash -c ". '$completion' && complete -p kith" | grep -q '_kith' || fail "completion does not register for kith"

# the hello plugin built out of tree against the installed SDK alone
pc=$(find "$root" -name kith-agent-1.pc)
[ -n "$pc" ] || fail "kith-agent-1.pc not installed"
oot=$tmp/hello
mkdir "$oot"
cp "$src/plugins/hello/kith-hello.c" "$oot/"
# the installed .pc, its prefix moved into the DESTDIR
mkdir "$tmp/pc"
sed "s|^prefix=|prefix=$root|" "$pc" > "$tmp/pc/kith-agent-1.pc"
export PKG_CONFIG_PATH="$tmp/pc"
ifaces=$(pkg-config --variable=interfacesdir kith-agent-1)
gdbus-codegen --interface-prefix org.kith. --c-namespace KithDbus --c-generate-autocleanup all --generate-c-code "$oot/kith-dbus-generated" \
  "$ifaces/org.kith.Hello1.xml" || fail "gdbus-codegen on the installed interface XML"
# shellcheck disable=SC2046
${CC:-cc} -shared -fPIC -o "$oot/libkith-hello.so" -I"$oot" "$oot/kith-hello.c" "$oot/kith-dbus-generated.c" \
  $(pkg-config --cflags --libs kith-agent-1) 2> "$tmp/oot.log" || { cat "$tmp/oot.log"; fail "out-of-tree hello"; }
unset PKG_CONFIG_PATH
printf '[agent]\nplugins=hello\nplugin-dir=.\n' > "$oot/hello.conf"
LD_LIBRARY_PATH=$root$libdir/kith "$root$exec_start" --check-config --config "$oot/hello.conf" > "$tmp/oot.log" 2>&1 ||
  { cat "$tmp/oot.log"; fail "the installed agent does not load the out-of-tree hello plugin"; }

# the unit's exposure as systemd rates it
if command -v systemd-analyze > /dev/null 2>&1; then
  exposure=$(systemd-analyze security --offline=yes "$unit" 2>&1 |
             sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  [ -n "$exposure" ] || fail "systemd-analyze gave no exposure level"
  say "systemd-analyze security --offline=yes: exposure $exposure"
  awk "BEGIN { exit !($exposure <= 3.0) }" || fail "unit exposure $exposure > 3.0"
else
  say "systemd-analyze not installed: exposure not measured"
fi

# ---- the installed agent, run as packaged, in private namespaces -------------------
if [ -z "${KITH_INSIDE_NS:-}" ]; then
  if [ "$(id -u)" != 0 ] || ! unshare -m -n true 2> /dev/null; then
    echo "SKIP: cannot create mount and network namespaces (needs root): installed agent not run"
    exit 77
  fi
  rc=0
  KITH_INSIDE_NS=1 KITH_TMP=$tmp unshare -m -n --propagation private timeout 300 sh "$0" "$src" || rc=$?
  exit $rc
fi
fi

ns=$(mktemp -d "$tmp/ns-XXXXXX")
chmod 755 "$tmp" "$ns"
trap 'cleanup_ns' EXIT
cleanup_ns () {
  [ -z "$agent_pid" ] || kill "$agent_pid" 2>/dev/null || true
  [ -z "$bus_pid" ] || kill "$bus_pid" 2>/dev/null || true
}
ip link set lo up

# users: kith (the agent), kithmember (in group kith), nobody (anyone else)
free_id () {
  id=$1
  while getent passwd "$id" > /dev/null || getent group "$id" > /dev/null; do id=$((id + 1)); done
  echo "$id"
}
kith_id=$(free_id 990)
member_id=$(free_id $((kith_id + 1)))
mkdir "$ns/etc"
cp /etc/passwd /etc/group "$ns/etc/"
echo "kith:x:$kith_id:$kith_id:kith:/var/lib/kith:/usr/sbin/nologin" >> "$ns/etc/passwd"
echo "kithmember:x:$member_id:$member_id::/nonexistent:/usr/sbin/nologin" >> "$ns/etc/passwd"
echo "kith:x:$kith_id:kithmember" >> "$ns/etc/group"
echo "kithmember:x:$member_id:" >> "$ns/etc/group"

# the DESTDIR over /usr and /etc (read-only unions), fresh /run and /var/lib
mount -t overlay overlay -o "lowerdir=$root/usr:/usr" /usr
mount -t overlay overlay -o "lowerdir=$ns/etc:$root/etc:/etc" /etc
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/lib
mkdir -p /run/dbus /var/lib/kith
chown kith:kith /var/lib/kith
chmod 750 /var/lib/kith

# a system bus of our own: Debian's system.conf, run as root, which includes the
# installed policy from /usr/share/dbus-1/system.d
sed -e '/<user>/d' -e '/<pidfile>/d' -e '/<syslog/d' \
    -e 's|<includedir>system.d</includedir>|<includedir>/usr/share/dbus-1/system.d</includedir>|' /usr/share/dbus-1/system.conf > "$ns/system.conf"
dbus-daemon --config-file="$ns/system.conf" --fork --print-pid=3 3> "$ns/bus.pid"
bus_pid=$(cat "$ns/bus.pid")
[ -S /run/dbus/system_bus_socket ] || fail "private system bus did not start"

as_kith () { setpriv --reuid=kith --regid=kith --clear-groups "$@"; }
as_member () { setpriv --reuid=kithmember --regid=kithmember --groups="$kith_id" "$@"; }
as_nobody () { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

# a typo stops the installed agent; the stock file checks clean
sed 's/^plugins=peering$/plugins=peering;updat/' /etc/kith/kith-agent.conf > "$ns/typo.conf"
if as_kith "$exec_start" --check-config --config "$ns/typo.conf" 2> "$ns/typo.log"; then
  fail "a typo in plugins= passed --check-config"
fi
grep -q "\[agent\] plugins: plugin 'updat' cannot run" "$ns/typo.log" || { cat "$ns/typo.log"; fail "typo message"; }
as_kith "$exec_start" --check-config > "$ns/check.log" 2>&1 || { cat "$ns/check.log"; fail "stock config does not check"; }

# the agent as the unit runs it
mkfifo "$ns/agent.fifo"
setpriv --reuid=kith --regid=kith --clear-groups "$exec_start" --config /etc/kith/kith-agent.conf 2> "$ns/agent.fifo" &
agent_pid=$!
exec 4< "$ns/agent.fifo"
ready=
while IFS= read -r line <&4; do
  echo "$line" >> "$ns/agent.log"
  case $line in *ready:*) ready=1; break ;; esac
done
[ -n "$ready" ] || { cat "$ns/agent.log"; fail "installed agent did not become ready"; }
cat <&4 >> "$ns/agent.log" &
grep -q "plugin peering .* running" "$ns/agent.log" || { cat "$ns/agent.log"; fail "peering not running"; }

# the policy: status and fetch for anyone, uploads and update checks for root and group kith
call () {
  who=$1; shift
  "as_$who" dbus-send --system --print-reply --dest=org.kith.Agent1 "$@" > "$ns/call.log" 2>&1 || true
  cat "$ns/call.log"
}
denied () { call "$@" | grep -q 'org.freedesktop.DBus.Error.AccessDenied'; }
call nobody /org/kith/Agent1 org.kith.Agent1.GetStatus | grep -q '"peering"' ||
  fail "a local user cannot read the status: $(cat "$ns/call.log")"
as_nobody /usr/bin/kith status > "$ns/status.log" 2>&1 || { cat "$ns/status.log"; fail "kith status as nobody"; }
! denied nobody /org/kith/Agent1/Peering org.kith.Peering1.Fetch || fail "a local user may not fetch"
denied nobody /org/kith/Agent1/Upload org.kith.Upload1.GetReceipt string:x || fail "nobody may use the upload service"
denied nobody /org/kith/Agent1/Update org.kith.Update1.Check || fail "nobody may start update checks"
! denied kithmember /org/kith/Agent1/Upload org.kith.Upload1.GetReceipt string:x ||
  fail "a member of group kith is refused the upload service"
! denied kithmember /org/kith/Agent1/Update org.kith.Update1.Check || fail "a member of group kith may not check"
! denied root /org/kith/Agent1/Update org.kith.Update1.Check || fail "root may not check"
status=0
as_nobody /usr/bin/kith update check > "$ns/cli.log" 2>&1 || status=$?
[ "$status" = 3 ] || { cat "$ns/cli.log"; fail "kith update check as nobody exited $status, not 3 (access denied)"; }

# /metrics: loopback only unless [agent] metrics=any
code=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:6515/metrics)
[ "$code" = 200 ] || fail "/metrics from loopback: HTTP $code"
# a LAN-like address of this private namespace (on lo; not a loopback address)
ip addr add 10.213.0.1/32 dev lo
code=$(curl -s -o /dev/null -w '%{http_code}' --interface 10.213.0.1 http://10.213.0.1:6515/metrics)
[ "$code" = 403 ] || fail "/metrics from a LAN address: HTTP $code, not 403"

kill "$agent_pid"
rc=0
wait "$agent_pid" || rc=$?
[ "$rc" = 0 ] || { cat "$ns/agent.log"; fail "the agent exited $rc on SIGTERM"; }
agent_pid=
say "installed agent ran as kith with its installed config and plugins; policy holds"
