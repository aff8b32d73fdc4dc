/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-origin.h — a small origin HTTP server for tests: it plays "the Internet",
 * counts requests per path and can be slow. It runs in its own thread, so tests may
 * block on D-Bus calls while it serves. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _KithTestOrigin KithTestOrigin;

/* Listens on 127.0.0.1, a free port; caller frees. */
KithTestOrigin *kith_test_origin_new (void);
void kith_test_origin_free (KithTestOrigin *self);
/* Serves @content at @path, at most @rate bytes per second (0: as fast as it can). */
void kith_test_origin_add (KithTestOrigin *self, const gchar *path, GBytes *content, guint rate);
/* "http://127.0.0.1:PORT@path"; caller frees. */
gchar *kith_test_origin_url (KithTestOrigin *self, const gchar *path);
/* Whether responses state the file's hash, `Repr-Digest: sha-256=:BASE64:` (default TRUE),
 * as an origin a node may take a trusted hash from (docs/protocol.md "Trust"). */
void kith_test_origin_set_digest (KithTestOrigin *self, gboolean digest);
/* GET answers for the whole of @path (added before, at full speed; not those for a
 * Range) send only its first @bytes, then pause mid-body until kith_test_origin_release():
 * an origin download that is surely still running while a test looks at its followers. */
void kith_test_origin_hold (KithTestOrigin *self, const gchar *path, gsize bytes);
/* Sends the rest of every held answer for @path, and holds no later one. */
void kith_test_origin_release (KithTestOrigin *self, const gchar *path);
/* GET requests received for @path. */
guint kith_test_origin_get_requests (KithTestOrigin *self, const gchar *path);
/* Body bytes written in GET answers for @path (a Range's only), so far: every byte a client
 * has received is counted (this waits for the server's thread to finish what it is running). */
guint64 kith_test_origin_get_bytes (KithTestOrigin *self, const gchar *path);

/* @size deterministic pseudo-random bytes derived from @seed. */
GBytes *kith_test_make_content (gsize size, guint32 seed);
/* The sha256 of @bytes as 64 hex digits; caller frees. */
gchar *kith_test_sha256 (GBytes *bytes);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithTestOrigin, kith_test_origin_free)

G_END_DECLS
