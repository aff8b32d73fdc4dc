/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-http-request.h — a request of the agent's own (to the backend, a relay or a peer) whose
 * answer is read whole into memory, bounded: soup_session_send_and_read() with a maximum, so
 * that whoever answers cannot make the agent hold more than the caller expects. */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Sends @msg through @session and reads the answer's body, whatever its status, up to
 * @max_size bytes (at most G_MAXUINT). The callback's source object is @msg: its status and
 * headers are there. */
void kith_http_request_send_async (SoupSession *session, SoupMessage *msg, guint64 max_size,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data);
/* The body (caller unrefs), or NULL with the soup or stream error, or G_IO_ERROR_MESSAGE_TOO_LARGE
 * ("more than N bytes") once the body is longer than the maximum. */
GBytes *kith_http_request_send_finish (GAsyncResult *result, GError **error);

G_END_DECLS
