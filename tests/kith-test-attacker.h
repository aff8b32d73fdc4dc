/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-attacker.h — tests/kith-lan-attacker.c as a child process of a suite: a hostile
 * node on the loopback LAN, started in one of its modes and stopped when the test is done */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  GSubprocess *process;
  GDataInputStream *out;
  gchar *alias_base; /* where its HTTP server serves, "http://127.0.0.1:PORT/alias/" */
  gchar *sha256;     /* what it claims to have, NULL for none */
  guint64 sent;      /* the most body bytes it wrote on one connection, once stopped */
  guint connections; /* the HTTP connections it served, once stopped */
} KithTestAttacker;

/* Spawns $KITH_LAN_ATTACKER on the peering @port in @mode with up to two arguments (NULL
 * ends them) and waits until it listens. Caller frees. */
KithTestAttacker *kith_test_attacker_spawn (guint16 port, const gchar *mode, const gchar *arg1,
                                            const gchar *arg2);
/* A liar: answers every "I need" at once with @sha256 (another file's) and serves @size
 * bytes that do not match it. */
KithTestAttacker *kith_test_attacker_spawn_liar (guint16 port, const gchar *sha256, guint64 size);
/* The next line it prints; NULL at its end. Caller frees. */
gchar *kith_test_attacker_read_line (KithTestAttacker *self);
/* Closes its stdin and waits for it to end; fails the test unless it ends cleanly. Returns
 * the most body bytes it wrote on one connection ("sent N"). Once; later calls return that. */
guint64 kith_test_attacker_stop (KithTestAttacker *self);
/* Stops it (see kith_test_attacker_stop) unless stopped, and frees. */
void kith_test_attacker_free (KithTestAttacker *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithTestAttacker, kith_test_attacker_free)

G_END_DECLS
