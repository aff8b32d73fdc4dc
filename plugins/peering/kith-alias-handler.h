/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-alias-handler.h — serves the alias store to peers over HTTP
 *
 * Paths: /alias/<sha256> and /alias/<sha256>/<name>, where <sha256> is 64
 * lower-case hex digits of a verified file in the store and the optional
 * <name> (a single path segment, ignored) is the href's file name, so that
 * `curl -O` and humans see something meaningful. Every other path is 404:
 * the request path is never used as a file name.
 * GET and HEAD, one byte range (206 / 416), ETag "<sha256>" with
 * If-None-Match (304) and If-Range; bodies go out with sendfile(2) on plain
 * HTTP under Linux, else memory-mapped: the file is never read into the heap.
 */
#pragma once

#include <libsoup/soup.h>

#include "kith-alias-store.h"

G_BEGIN_DECLS

/* Where aliases live on the agent's HTTP server. */
#define KITH_ALIAS_HANDLER_PREFIX "/alias/"

#define KITH_TYPE_ALIAS_HANDLER (kith_alias_handler_get_type ())
G_DECLARE_FINAL_TYPE (KithAliasHandler, kith_alias_handler, KITH, ALIAS_HANDLER, GObject)

/* A handler serving @store (kept referenced); caller owns it. */
KithAliasHandler *kith_alias_handler_new (KithAliasStore *store);
/* The SoupServerCallback; @user_data is the KithAliasHandler. For
 * kith_http_add_handler (http, KITH_ALIAS_HANDLER_PREFIX, kith_alias_handler_callback,
 * g_object_ref (handler), g_object_unref). */
void kith_alias_handler_callback (SoupServer *server, SoupServerMessage *msg, const char *path,
                                  GHashTable *query, gpointer user_data);
/* Registers the handler on a bare @server under KITH_ALIAS_HANDLER_PREFIX (it keeps a ref). */
void kith_alias_handler_add_to_server (KithAliasHandler *self, SoupServer *server);
/* "/alias/<sha256>/<name>" for @href's last path segment (without it when unsafe); caller owns. */
gchar *kith_alias_handler_build_path (const gchar *sha256, const gchar *href);
/* Whether GET bodies may use sendfile(2) (default TRUE; it closes the connection
 * after the response); FALSE always serves the memory-mapped file through libsoup. */
void kith_alias_handler_set_use_sendfile (KithAliasHandler *self, gboolean use_sendfile);
/* Body bytes actually written to peers so far. */
guint64 kith_alias_handler_get_bytes_served (KithAliasHandler *self);
/* Requests answered with 200 or 206 so far. Signal "served" (sha256, guint64 bytes)
 * fires when such a response has finished or was cut, with the bytes written. */
guint64 kith_alias_handler_get_hits (KithAliasHandler *self);

G_END_DECLS
