/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload-reader.h — reading a report handed over by file descriptor (Upload(h)) without
 * ever blocking the main loop: a pipe whose writer is slow, or never writes, holds only its
 * own call. Bounded in size and in time. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Reads @fd (taken: closed when done) to its end: at most @max_size bytes within
 * @timeout_ms, cancelled with @cancellable (nullable). */
void kith_upload_reader_read_async (gint fd, guint64 max_size, guint64 timeout_ms, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
/* The bytes read (caller unrefs), or NULL with a KITH_UPLOAD_ERROR: TOO_LARGE, FAILED for a
 * timeout (the message names [upload] read-timeout), UNSUPPORTED without POSIX; or the
 * stream's own error. */
GBytes *kith_upload_reader_read_finish (GAsyncResult *result, GError **error);

G_END_DECLS
