/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-sha256.h — SHA-256 as GChecksum gives it, computed by GnuTLS: GnuTLS uses the CPU's
 * SHA instructions where there are some (1.4 GB/s against GLib's 0.17 GB/s on the 2-core
 * bench VM), and every byte a node fetches is hashed once or twice (a piece, then the whole
 * file). Falls back to GChecksum where GnuTLS refuses the digest. Not installed: a helper
 * of the tree, not plugin API. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _KithSha256 KithSha256;

/* A new digest, nothing hashed yet. Never NULL. */
KithSha256 *kith_sha256_new (void);
/* Hashes @len more bytes; not after kith_sha256_get_string(). */
void kith_sha256_update (KithSha256 *self, const guint8 *data, gsize len);
/* The digest as 64 lowercase hex digits; ends the hashing (later calls give it again).
 * Owned by @self. */
const gchar *kith_sha256_get_string (KithSha256 *self);
void kith_sha256_free (KithSha256 *self);
/* The digest of @len bytes at @data, lowercase hex; caller frees. */
gchar *kith_sha256_for_data (const guint8 *data, gsize len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithSha256, kith_sha256_free)

G_END_DECLS
