/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-backend.h — a real kith-backend (init, publish, serve) for multi-agent tests:
 * $KITH_BACKEND names the binary, $KITH_SAMPLE_RELEASE the sample release script */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _KithTestBackend KithTestBackend;

/* `kith-backend init` in a fresh temporary directory; caller frees (stops it, removes it). */
KithTestBackend *kith_test_backend_new (void);
void kith_test_backend_free (KithTestBackend *self);
/* The backend directory and its ca.pem; owned by @self. */
const gchar *kith_test_backend_get_dir (KithTestBackend *self);
const gchar *kith_test_backend_get_ca (KithTestBackend *self);
/* Runs make-sample-release.sh with @stamp into a new directory and publishes it; returns
 * that directory (owned by @self). */
const gchar *kith_test_backend_publish_sample (KithTestBackend *self, const gchar *stamp);
/* `kith-backend publish` of the release in the directory @src (the caller's). */
void kith_test_backend_publish (KithTestBackend *self, const gchar *src);
/* `kith-backend serve` on 127.0.0.1, a free port, at @rate ("1M"; NULL: unlimited);
 * waits for its ready line. */
void kith_test_backend_serve (KithTestBackend *self, const gchar *rate);
/* serve --plain-http: for tests of the HTTP layer itself (agents refuse it by default) */
void kith_test_backend_serve_plain (KithTestBackend *self);
/* The serving process's id, 0 when not serving. */
gint kith_test_backend_get_pid (KithTestBackend *self);
/* "http://127.0.0.1:PORT" once serving; owned by @self. */
const gchar *kith_test_backend_get_url (KithTestBackend *self);
/* From GET /stats: requests or body bytes for @path (0 when absent), or for all paths
 * starting with @path when it ends with '/'. */
guint64 kith_test_backend_get_requests (KithTestBackend *self, const gchar *path);
guint64 kith_test_backend_get_bytes (KithTestBackend *self, const gchar *path);
/* How many reports stored under @dir/uploads (a backend directory; receipts aside) hold
 * exactly @content. */
guint kith_test_backend_dir_count_reports (const gchar *dir, GBytes *content);
/* The [agent] keys of a node of the backend at @url that trusts @ca: it enrolls with @token,
 * or runs offline if @token is NULL. Caller frees. */
gchar *kith_test_backend_agent_config (const gchar *url, const gchar *ca, const gchar *token);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithTestBackend, kith_test_backend_free)

G_END_DECLS
