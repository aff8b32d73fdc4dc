/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-endless.h — the HTTP side of a hostile peer or relay, for the child processes
 * of the suites that play one: on 127.0.0.1, every request is answered 200 with a chunked
 * body that never ends (as fast as the reader takes it, or a byte every 100 ms) until the
 * reader cuts it; a CONNECT is answered 200 and held open until the client closes it.
 * Each answer the reader cuts prints a line "cut BYTES" (its body bytes written) on stdout,
 * where the suite that runs the child reads it; one whose reader took nothing for 10 s
 * without closing, "stuck BYTES". */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _KithTestEndless KithTestEndless;

/* Listens on a free port of 127.0.0.1 in a thread of its own; @trickle: a byte every 100 ms,
 * else at full speed. Caller frees. */
KithTestEndless *kith_test_endless_new (gboolean trickle);
guint16 kith_test_endless_get_port (KithTestEndless *self);
/* Answers a request itself: the whole HTTP answer (head and body, newly allocated), or NULL
 * for the endless one. @head is the request head, @body the first 64 KiB of its body. */
typedef gchar *(*KithTestEndlessFunc) (const gchar *head, GBytes *body, gpointer user_data);
/* Before the first request comes (the workers call @func from their threads). */
void kith_test_endless_set_func (KithTestEndless *self, KithTestEndlessFunc func, gpointer user_data);
/* Ends the answers in progress (each within 10 s, however stuck its reader) and frees. */
void kith_test_endless_free (KithTestEndless *self);
/* In the suite: waits for @child (which must end by itself) to say that an answer was cut,
 * and returns the body bytes it had written by then; fails the test on any other line. */
guint64 kith_test_endless_wait_cut (GSubprocess *child);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithTestEndless, kith_test_endless_free)

G_END_DECLS
