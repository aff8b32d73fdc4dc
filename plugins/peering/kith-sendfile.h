/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-sendfile.h — sends a response body with sendfile(2) on libsoup's socket
 *
 * libsoup writes bodies from user memory, which costs one more copy per byte
 * than a kernel-side sendfile; for large aliases that copy is the bottleneck.
 * Here libsoup still writes the status line and headers; right after, the
 * connection is taken over ("stolen") and the file range is streamed from the
 * page cache, then the connection is closed ("Connection: close").
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Called once when the response ended: @bytes body bytes were sent, @complete if all of them. */
typedef void (*KithSendfileDoneFunc) (guint64 bytes, gboolean complete, gpointer user_data);

/*
 * Arranges for the body of @msg (status, Content-Length and other headers
 * already set by the caller, no body) to be bytes [@offset, @offset + @length)
 * of the file at @path. Returns FALSE, leaving @msg untouched, when this cannot
 * be done (not Linux, HTTPS, file unreadable or not @expected_size bytes): the
 * caller then supplies the body itself. On TRUE the caller must not touch the
 * body; @done (nullable) is called exactly once, then @destroy.
 */
gboolean kith_sendfile_respond (SoupServer *server, SoupServerMessage *msg, const gchar *path,
                                guint64 expected_size, guint64 offset, guint64 length,
                                KithSendfileDoneFunc done, gpointer user_data,
                                GDestroyNotify destroy);

/*
 * The same for bytes [@offset, @offset + @length) of the open file @fd, which the call
 * takes (closed when the response ended, or at once on FALSE). For a file still being
 * written: the caller vouches that the range is there.
 */
gboolean kith_sendfile_respond_fd (SoupServer *server, SoupServerMessage *msg, gint fd, guint64 offset,
                                   guint64 length, KithSendfileDoneFunc done, gpointer user_data,
                                   GDestroyNotify destroy);

G_END_DECLS
