/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-alias-verifier.h — re-hashing stored files in a worker thread, so that only bytes
 * whose digest is confirmed are ever served */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Lower-case hex sha256 of the file at @path, or NULL with @error. */
gchar *kith_alias_hash_file (const gchar *path, GCancellable *cancellable, GError **error);

/* Hashes the files @sha256s[i] in @dir in a worker thread; @sha256s is copied. */
void kith_alias_verifier_run_async (const gchar *dir, GPtrArray *sha256s, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
/* The sha256s whose file is unreadable or does not match its name (element-type utf8),
 * or NULL with @error when cancelled. */
GPtrArray *kith_alias_verifier_run_finish (GAsyncResult *result, GError **error);

G_END_DECLS
