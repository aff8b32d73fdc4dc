#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check-abi.py LIBRARY MAP [NOT_EXPORTED...] [--users MODULE...]: the library exports
exactly the functions its version script names (no generated kith_dbus_IFACE_* code, no
private helper), none of the NOT_EXPORTED names, and every kith_ symbol the user MODULEs
(plugins, programs) leave undefined: a plugin that calls an unexported helper would
otherwise only fail when the agent loads it."""
import re
import subprocess
import sys

args = sys.argv[1:]
users = []
if '--users' in args:
    users = args[args.index('--users') + 1:]
    args = args[:args.index('--users')]
lib, mapfile, forbidden = args[0], args[1], args[2:]
with open(mapfile, encoding='utf-8') as f:
    allowed = set(re.findall(r'^\s+(\w+);', f.read(), re.M))
out = subprocess.run(['nm', '-D', '--defined-only', lib], check=True, capture_output=True, text=True).stdout
exported = {line.split()[-1].split('@')[0] for line in out.splitlines() if line.strip()}
kith = {s for s in exported if s.startswith('kith_')}
problems = []
extra = sorted(kith - allowed)
if extra:
    problems.append('exported but in no installed header: ' + ', '.join(extra))
generated = sorted(s for s in kith if re.match(r'kith_dbus_[a-z]+[0-9]_', s))
if generated:
    problems.append('generated D-Bus code exported: ' + ', '.join(generated[:5]))
leaked = sorted(set(forbidden) & exported)
if leaked:
    problems.append('private helpers exported: ' + ', '.join(leaked))
if not kith:
    problems.append('no kith_ symbol exported at all')
for user in users:
    out = subprocess.run(['nm', '-D', '--undefined-only', user], check=True, capture_output=True,
                         text=True).stdout
    needed = {line.split()[-1].split('@')[0] for line in out.splitlines() if line.strip()}
    missing = sorted(s for s in needed if s.startswith('kith_') and s not in exported)
    if missing:
        problems.append('%s needs what is not exported (declare it in an installed header): %s'
                        % (user, ', '.join(missing)))
for p in problems:
    print('%s: %s' % (lib, p))
if not problems:
    print('%s: %d kith_ symbols exported, all declared in installed headers; %d users checked'
          % (lib, len(kith), len(users)))
sys.exit(1 if problems else 0)
