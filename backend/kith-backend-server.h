/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-backend-server.h — the backend's HTTP side: catalog, signature and files with GET,
 * HEAD and Range, an optional uplink rate limit shared by all clients, and /stats. */
#pragma once

#include <glib-object.h>

#include "kith-backend-upload.h"

G_BEGIN_DECLS

#define KITH_TYPE_BACKEND_SERVER (kith_backend_server_get_type ())
G_DECLARE_FINAL_TYPE (KithBackendServer, kith_backend_server, KITH, BACKEND_SERVER, GObject)

/* A server for backend directory @dir; @rate_limit in bytes per second, 0 for none. */
KithBackendServer *kith_backend_server_new (const gchar *dir, guint64 rate_limit);
/* Listens on @address, an IP literal and port ("127.0.0.1:8080", "[::1]:0"; port 0 picks
 * one). INVALID_ARGS for a bad address, ADDRESS_IN_USE when it is taken. */
gboolean kith_backend_server_listen (KithBackendServer *self, const gchar *address, GError **error);
/* Serve HTTPS with @certificate (call before listen). */
void kith_backend_server_set_tls_certificate (KithBackendServer *self, GTlsCertificate *certificate);
/* The base URL listened on, e.g. "http://127.0.0.1:40123"; caller frees. */
gchar *kith_backend_server_get_base_url (KithBackendServer *self);
/* The GET /stats document: {"paths": {PATH: {"requests": n, "bytes": n}}, "total_requests": n,
 * "total_bytes": n, "uploads": n (distinct reports stored), "enrolled": n, "rate_limit": n}, counting body bytes actually written; caller frees. */
gchar *kith_backend_server_get_stats_json (KithBackendServer *self);
/* Replaces the options of POST /enroll and /upload (certificate validity, receipt knobs). */
void kith_backend_server_set_upload_options (KithBackendServer *self, const KithBackendUploadOptions *options);
/* Closes the listening sockets and every connection. Idempotent. */
void kith_backend_server_stop (KithBackendServer *self);

G_END_DECLS
