#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# make-sample-release.sh OUTDIR [STAMP]
#
# Writes the patent's six signature files into OUTDIR as NAME-STAMP.cab with the patent's
# sizes (KB = 1024 bytes; 2236 KB in all). The content is pseudo-random but deterministic:
# a Park-Miller generator seeded with the CRC of "NAME-STAMP", so the same NAME and STAMP
# always give the same bytes on every machine, and a new STAMP gives new files.
# STAMP defaults to 2611211200 (yymmddHHMM, as in the patent's avdat-yymmddHHMM names).
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 OUTDIR [STAMP]" >&2
  exit 2
fi
out=$1
stamp=${2:-2611211200}
case $stamp in
  ''|*[!0-9]*) echo "$0: STAMP must be digits, e.g. 2611211200" >&2; exit 2 ;;
esac
mkdir -p "$out"

for spec in avdat:910 xtrdat:16 cioagt:370 vsasap:360 vseng9x:240 vsengine:340; do
  name=${spec%%:*}
  kb=${spec#*:}
  file="$out/$name-$stamp.cab"
  seed=$(printf '%s' "$name-$stamp" | cksum | cut -d' ' -f1)
  LC_ALL=C awk -v n=$((kb * 1024)) -v seed="$seed" 'BEGIN {
    x = seed % 2147483646 + 1
    for (i = 0; i < n; i++) {
      x = (16807 * x) % 2147483647
      printf "%c", int(x / 8388608) % 256
    }
  }' > "$file.tmp"
  mv "$file.tmp" "$file"
  echo "$file"
done
