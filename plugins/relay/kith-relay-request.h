/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-relay-request.h — an origin miss fetched by the relay in use: the requesting side of
 * kith-relay-fetch.h (docs/relay.md, "Origin misses"). It sends GET /relay/fetch?url=…
 * &sha256=…&size=… to the relay the backend route names at each attempt, so that after a
 * failover the next relay is asked; asks again at once while the relay answers 202 (still
 * fetching), and a little later while it answers 503 (its caps) or does not answer at all,
 * up to the fetch's deadline. An answer longer than the bound (a line of text) is proof that
 * the relay misbehaves: the request fails and names that relay to the caller.
 *
 * It knows nothing of how the route is chosen (kith-relay-client.h): it reads the relay in
 * use from the route, tells the route when a relay did not answer
 * (kith_backend_route_report_failure(), which makes the route's owner check it now), and
 * reports a relay that misbehaved through the blacklist callback. */
#pragma once

#include <libsoup/soup.h>

#include "kith-backend-route.h"

G_BEGIN_DECLS

/* @node, the relay a request went to, proved it misbehaves (@why says how, for the log). */
typedef void (*KithRelayRequestBlacklistFunc) (const gchar *node, const gchar *why, gpointer user_data);

/* Asks the relay in use on @route to fetch @url (verified against @sha256, @size bytes or 0)
 * and hold it, with requests through @session, for at most @timeout_ms. With no relay in
 * use it fails at once — unless @finding (one is being searched for or tried): then it
 * waits for the next one up to the deadline. The request holds references to @route,
 * @session and @stop. @blacklist_data is borrowed until @stop is cancelled: its owner
 * cancels @stop before freeing it (and may abort @session), and from then on the request
 * never calls @blacklist nor sends again, and ends with G_IO_ERROR_CANCELLED. The task's
 * source object is @source. */
void kith_relay_request_async (KithBackendRoute *route, SoupSession *session, GCancellable *stop, gboolean finding,
                               KithRelayRequestBlacklistFunc blacklist, gpointer blacklist_data,
                               GObject *source, const gchar *url, const gchar *sha256, guint64 size,
                               guint64 timeout_ms, GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data);
/* TRUE once the relay holds the file; otherwise FALSE and @error says why: the relay's
 * status and reason, the last request's own error, G_IO_ERROR_TIMED_OUT (its answer did not
 * end by the deadline), G_IO_ERROR_NOT_FOUND (no relay in use, or no hash) or
 * G_IO_ERROR_INVALID_DATA (the relay misbehaved and was named to the blacklist callback) or
 * G_IO_ERROR_CANCELLED (@cancellable or @stop was cancelled). */
gboolean kith_relay_request_finish (GAsyncResult *result, GError **error);

G_END_DECLS
