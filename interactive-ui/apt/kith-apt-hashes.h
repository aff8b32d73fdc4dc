/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-apt-hashes.h — the hashes of a downloaded file, in the names apt uses
 * ("MD5Sum", "SHA1", "SHA256", "SHA512", "Checksum-FileSize") */
#pragma once

#include "kith-apt-message.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _KithAptHashes KithAptHashes;

KithAptHashes *kith_apt_hashes_new (void);
void kith_apt_hashes_free (KithAptHashes *self);
void kith_apt_hashes_update (KithAptHashes *self, const guchar *data, gsize len);
/* Hashes the whole file at @path (reading it in blocks); NULL with @error if unreadable. */
KithAptHashes *kith_apt_hashes_new_for_file (const gchar *path, GCancellable *cancellable,
                                             GError **error);
guint64 kith_apt_hashes_get_size (KithAptHashes *self);
/* The lowercase hex digest of @type (an apt hash name), or NULL for an unknown type. */
const gchar *kith_apt_hashes_get (KithAptHashes *self, const gchar *type);
/* Adds "MD5-Hash", "<Type>-Hash" for every type and "Checksum-FileSize-Hash", with
 * @prefix before each name ("" or "Alt-"), as apt's own methods report a 201 URI Done. */
void kith_apt_hashes_add_to (KithAptHashes *self, KithAptMessage *message, const gchar *prefix);
/* Compares every "Expected-<Type>" field of @request with these hashes; FALSE and the first
 * mismatch in @error. A request without expectations matches. */
gboolean kith_apt_hashes_check (KithAptHashes *self, KithAptMessage *request, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithAptHashes, kith_apt_hashes_free)

G_END_DECLS
