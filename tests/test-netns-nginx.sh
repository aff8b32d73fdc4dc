#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The update origin on a stock web server (docs/backend.md, "Running it at scale"): nginx on
# the Internet host serves DIR/public exactly as `kith-backend publish` wrote it, over HTTPS
# with a certificate from the vendor CA (`kith-backend tls-cert`), and passes only POST
# /enroll and /upload to `kith-backend serve`. Three online agents of the namespace LAN
# enroll, update and upload through that one backend-url.
#   usage: test-netns-nginx.sh BUILD-DIR   (exit 77 without namespaces or without nginx)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$NGINX" ]; then
  echo "SKIP: nginx is not installed (make deps installs it)"
  exit 77
fi
. "$(dirname "$0")/kith-netns.sh"
netns_enter 240 "$0" "$@"
set -euo pipefail

NODES=3
fail () { echo "FAIL: $*"; for f in "$NETNS_DIR"/node*/agent.log "$NETNS_DIR"/backend.log "$NETNS_DIR"/nginx/error.log; do
            [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done; exit 1; }
ok () { echo "ok - $*"; }

netns_lan "$1" "$NODES"
trap netns_cleanup EXIT
netns_online $(seq "$NODES")
netns_backend # HTTPS on $NETNS_INET:8080; publishes the sample release into vendor/public

# nothing but the origin in the tree nginx serves: no key, no token, no upload
tree=$(cd "$NETNS_VENDOR/public" && find . -mindepth 1 | sort | tr '\n' ' ')
want=$(cd "$NETNS_RELEASE" && ls | sed 's|^|./files/|' | sort | tr '\n' ' ')
[ "$tree" = "./catalog.json ./catalog.json.sig ./files $want" ] || fail "public/ holds: $tree"
ok "publish wrote public/: catalog.json, its signature and files/, nothing else"

# nginx with its own prefix, config and logs; the stock binary, no module of ours
N=$NETNS_DIR/nginx
mkdir -p "$N"
"$NETNS_BUILD/backend/kith-backend" tls-cert "$NETNS_VENDOR" "$N/origin.pem" "$NETNS_INET" > /dev/null
ORIGIN=https://$NETNS_INET
# shellcheck disable=SC2016 # nginx's variables, not the shell's
netns_nginx_run inet "$N" "$ORIGIN/catalog.json" "
    listen $NETNS_INET:443 ssl;
    ssl_certificate $N/origin.pem;
    ssl_certificate_key $N/origin.pem;
    root $NETNS_VENDOR/public;
    location = /catalog.json { add_header Cache-Control no-cache; }
    location = /catalog.json.sig { add_header Cache-Control no-cache; }
    location /files/ { }
    location ~ ^/(enroll|upload)\$ {
      client_max_body_size 16m;
      proxy_pass https://$NETNS_INET:8080;
      proxy_ssl_trusted_certificate $NETNS_VENDOR/ca.pem;
      proxy_ssl_verify on;
      proxy_ssl_name $NETNS_INET;
    }
    location / { return 404; }" '$request_method $uri $status $body_bytes_sent' --cacert "$NETNS_VENDOR/ca.pem" ||
  fail "nginx did not start"
for path in ca-key.pem signing-key.pem enrollment-token ../ca-key.pem files/../../ca-key.pem; do
  code=$(netns_exec h1 curl -s --path-as-is --max-time 5 --cacert "$NETNS_VENDOR/ca.pem" -o /dev/null \
    -w '%{http_code}' "$ORIGIN/$path" || true)
  [ "$code" = 404 ] || [ "$code" = 400 ] || fail "nginx answered $code for /$path"
done
: > "$N/access.log"
ok "nginx serves public/ over HTTPS (a certificate from the vendor CA); no key or token behind any URL"

BACKEND=$NETNS_BACKEND_URL
backend_stats () { NETNS_BACKEND_URL=$BACKEND netns_stats; }
NETNS_BACKEND_URL=$ORIGIN # what the agents are given
token=$(cat "$NETNS_VENDOR/enrollment-token")
for i in $(seq "$NODES"); do netns_agent "$i" "peering;update;upload" "enrollment-token=$token"; done
netns_wait_ready $(seq "$NODES") || fail "agents not ready"
for i in $(seq "$NODES"); do
  netns_wait_for "$NETNS_DIR/node$i/agent.log" 'enrolled' "${NETNS_PIDS[$i]}" || fail "node $i did not enroll"
done
[ "$(grep -c '^POST /enroll 200' "$N/access.log")" = "$NODES" ] || fail "enrollments through nginx: $(grep enroll "$N/access.log")"
ok "$NODES agents enrolled through nginx (POST /enroll passed to kith-backend)"

# a signature nginx serves that does not verify is refused
cp "$NETNS_VENDOR/public/catalog.json.sig" "$N/good.sig"
sed 's/\("signature" *: *"\)A/\1B/; t; s/\("signature" *: *"\)./\1A/' "$N/good.sig" > "$N/bad.sig"
cmp -s "$N/good.sig" "$N/bad.sig" && fail "could not damage the signature"
cp "$N/bad.sig" "$NETNS_VENDOR/public/catalog.json.sig"
if netns_kith 1 update check > "$NETNS_DIR/bad-check.out" 2>&1; then
  fail "node 1 accepted a damaged signature: $(cat "$NETNS_DIR/bad-check.out")"
fi
netns_current 1 && fail "node 1 installed a release whose signature does not verify"
grep -q '^GET /files/' "$N/access.log" && fail "a file was fetched under a damaged signature"
cp "$N/good.sig" "$NETNS_VENDOR/public/catalog.json.sig"
ok "a damaged catalog.json.sig on the web server is refused: $(tail -n 1 "$NETNS_DIR/bad-check.out")"

start=$(date +%s%N)
pids=()
for i in $(seq "$NODES"); do
  netns_kith "$i" update check > "$NETNS_DIR/check$i.out" 2>&1 &
  pids[$i]=$!
done
for i in $(seq "$NODES"); do wait "${pids[$i]}" || fail "check on node $i: $(cat "$NETNS_DIR/check$i.out")"; done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
for i in $(seq "$NODES"); do
  netns_current "$i" || fail "node $i did not install the release"
  grep -q 'catalog [0-9]* verified' "$NETNS_DIR/node$i/agent.log" || fail "node $i logged no verified catalog"
done
for f in "$NETNS_RELEASE"/*; do
  name=$(basename "$f")
  n=$(grep -c "^GET /files/$name " "$N/access.log" || true)
  [ "$n" = 1 ] || fail "nginx served /files/$name $n times: $(grep "$name" "$N/access.log")"
done
stats=$(backend_stats | tr -d ' \n')
case $stats in *'"total_requests"'*) ;; *) fail "no stats from kith-backend: $stats" ;; esac
case $stats in *'"/files/'*|*'"/catalog.json'*) fail "kith-backend served the origin itself: $stats" ;; esac
ok "$NODES nodes current in $ms ms: each of the $(ls "$NETNS_RELEASE" | wc -l) files GET once from nginx, signatures verified, none from kith-backend"

for i in $(seq "$NODES"); do
  { echo "report of node $i"; seq 1 500; } > "$NETNS_DIR/report$i.txt"
  netns_kith "$i" upload "$NETNS_DIR/report$i.txt" > "$NETNS_DIR/upload$i.out" 2>&1 ||
    fail "upload on node $i: $(cat "$NETNS_DIR/upload$i.out")"
done
for i in $(seq "$NODES"); do
  stored=$(grep -lx "report of node $i" "$NETNS_VENDOR"/uploads/* 2>/dev/null | grep -v '\.receipt$' || true)
  [ "$(echo "$stored" | grep -c .)" = 1 ] || fail "report of node $i stored as: $stored"
  grep -q "delivered directly" "$NETNS_DIR/node$i/agent.log" || fail "node $i: report not delivered"
  # the node keeps the receipt it verified: the one the backend signed
  cmp -s "$stored.receipt" "$NETNS_DIR/node$i/state/upload/receipts/$(basename "$stored").json" ||
    fail "node $i holds no receipt matching the backend's"
done
uploads=$(backend_stats | tr -d ' \n' | sed -n 's/.*"uploads":\([0-9]*\).*/\1/p')
[ "$uploads" = "$NODES" ] || fail "backend counts $uploads uploads"
grep -q '^POST /upload 200' "$N/access.log" || fail "no upload went through nginx"
ok "$NODES reports through nginx to kith-backend, each stored once with its receipt"
