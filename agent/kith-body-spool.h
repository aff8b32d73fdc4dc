/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-body-spool.h — a request body written to a file as it arrives: never held in
 * memory, cut at a size limit */
#pragma once

#include <libsoup/soup.h>

#include "kith-http.h"

G_BEGIN_DECLS

typedef struct _KithBodySpool KithBodySpool;

/*
 * Spools the body of @msg, from an early handler (the head is in, no byte of the body read),
 * into a new file @dir/.partial-XXXXXX (mode 0600; @dir is made if missing). At most
 * @max_size bytes are written: a longer body, or one the disk does not take, fails the
 * spool, nothing more is written, and when @http is not NULL the body is refused through it
 * (413, or 507 for a write error). @msg owns the spool and removes the file with it, unless
 * kith_body_spool_keep() took the file. Returns the spool (owned by @msg), or NULL with
 * @error (G_FILE_ERROR) when the file cannot be made.
 */
KithBodySpool *kith_body_spool_begin (SoupServerMessage *msg, const gchar *dir, guint64 max_size, KithHttp *http,
                                      GError **error);
/* The spool kith_body_spool_begin() gave @msg, or NULL; owned by @msg. */
KithBodySpool *kith_body_spool_get (SoupServerMessage *msg);
/* Whether the body was cut at the limit or could not be written. */
gboolean kith_body_spool_has_failed (KithBodySpool *self);
/* Bytes of the body written so far. */
guint64 kith_body_spool_get_size (KithBodySpool *self);
/* The whole body, mapped from the file, which is removed (the mapping keeps the bytes):
 * for a body used at once. Caller owns the result. */
GBytes *kith_body_spool_take_bytes (KithBodySpool *self, GError **error);
/* Makes the body durable at @path (fsync, close, rename); the file is the caller's now. */
gboolean kith_body_spool_keep (KithBodySpool *self, const gchar *path, GError **error);

G_END_DECLS
