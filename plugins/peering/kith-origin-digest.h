/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-origin-digest.h — the hash an origin states for its own file: a HEAD answered
 * with `Repr-Digest: sha-256=:BASE64:` (RFC 9530) or `Digest: SHA-256=BASE64` (RFC 3230).
 * A node that may reach the origin asks it before taking a peer's copy of a URL it has no
 * other trusted hash for; the answer is as trustworthy as the origin connection itself. */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* The sha-256 stated by @headers as 64 lowercase hex digits, or NULL; caller frees.
 * Repr-Digest wins over Digest; malformed values are ignored. */
gchar *kith_origin_digest_from_headers (SoupMessageHeaders *headers);

/* Sends HEAD @href through @session, given up after @timeout_ms; @callback gets the
 * result: kith_origin_digest_head_finish(). */
void kith_origin_digest_head_async (SoupSession *session, const gchar *href, guint timeout_ms,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data);
/* The stated sha-256 (caller frees), or NULL with an error: the origin could not be
 * reached (or did not answer 2xx in time), or it states no sha-256 (G_IO_ERROR_NOT_FOUND). */
gchar *kith_origin_digest_head_finish (GAsyncResult *result, GError **error);

G_END_DECLS
