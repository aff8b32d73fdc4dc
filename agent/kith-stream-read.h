/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-stream-read.h — a whole stream read into memory, bounded: what a peer, the backend or a
 * local writer sends is never held past the size its reader allows, however much it sends.
 * Shared by the update catalog check, the upload attempt's receipt and the upload reader. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Reads @stream to its end without blocking, in chunks, into memory: at most @max_size bytes
 * (at most G_MAXUINT); one byte more and the read stops. @cancellable may be NULL. */
void kith_stream_read_all_async (GInputStream *stream, guint64 max_size, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
/* The bytes read (caller unrefs), or NULL with G_IO_ERROR_MESSAGE_TOO_LARGE ("more than N
 * bytes") when the stream holds more than the maximum, or the stream's own error
 * (G_IO_ERROR_CANCELLED once cancelled). */
GBytes *kith_stream_read_all_finish (GAsyncResult *result, GError **error);

G_END_DECLS
