/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-partial-handler.h — serves partial copies (downloads in progress) to peers at
 * /alias/partial/<token> while they grow (docs/protocol.md "Streaming")
 *
 * GET and HEAD; one byte range when the size is known (206 / 416), else the whole copy,
 * chunked when its size is unknown. Bytes go out as they arrive; the last byte of an
 * answer only once the copy is complete, that is verified and taken by the store, so a
 * reader never completes a copy that turns out bad. A copy that fails, or does not grow
 * for the stall time while a reader waits, has the reader's connection cut. Bounded: at
 * most KITH_PARTIAL_HANDLER_MAX_READERS readers per copy (503 beyond), at most
 * KITH_PARTIAL_HANDLER_BUFFER bytes queued per reader.
 */
#pragma once

#include <libsoup/soup.h>

#include "kith-partial-table.h"

G_BEGIN_DECLS

#define KITH_PARTIAL_HANDLER_PREFIX "/alias/partial/"
#define KITH_PARTIAL_HANDLER_BUFFER (256 * 1024)
#define KITH_PARTIAL_HANDLER_MAX_READERS 32
/* Tokens are this many lower-case hex digits (128 random bits). */
#define KITH_PARTIAL_HANDLER_TOKEN_LEN 32

/* Signals: "served" (guint64 body bytes written, gboolean all of the answer) when a
 * reader's answer ended or was cut; "refused" (const gchar *reason) for every reader
 * turned away or cut: "readers" (over the cap), "stall", "failed", "stopping" (the handler
 * was stopped, kith_partial_handler_stop()). */
#define KITH_TYPE_PARTIAL_HANDLER (kith_partial_handler_get_type ())
G_DECLARE_FINAL_TYPE (KithPartialHandler, kith_partial_handler, KITH, PARTIAL_HANDLER, GObject)

/* A handler serving the copies of @table (borrowed: it must outlive the handler's place on
 * the server); a reader waits at most @stall_ms for new bytes. Caller owns. */
KithPartialHandler *kith_partial_handler_new (KithPartialTable *table, guint stall_ms);
/* The SoupServerCallback; @user_data is the KithPartialHandler (see kith-alias-handler.h). */
void kith_partial_handler_callback (SoupServer *server, SoupServerMessage *msg, const char *path,
                                    GHashTable *query, gpointer user_data);
/* Registers the handler on a bare @server under KITH_PARTIAL_HANDLER_PREFIX (it keeps a ref). */
void kith_partial_handler_add_to_server (KithPartialHandler *self, SoupServer *server);
/* Readers admitted at most per copy (default KITH_PARTIAL_HANDLER_MAX_READERS). */
void kith_partial_handler_set_max_readers (KithPartialHandler *self, guint max_readers);
/* "/alias/partial/<token>"; caller owns. */
gchar *kith_partial_handler_build_path (const gchar *token);
/* Cuts every reader whose answer is still going out, at once — a reader of a copy of
 * unknown size by resetting its connection, so that it is never taken for a clean end (the
 * server's own disconnect would end it so). For a stop of the server: call it before. */
void kith_partial_handler_stop (KithPartialHandler *self);
/* Body bytes written to readers so far. */
guint64 kith_partial_handler_get_bytes_served (KithPartialHandler *self);

G_END_DECLS
