/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-alias-recovery.h — the alias store's directory brought back, at startup, to what can
 * be trusted: the index checked against the files, the leftovers of a crash cleared or
 * adopted, every file re-hashed before it is served */
#pragma once

#include <gio/gio.h>

#include "kith-alias-index.h"

G_BEGIN_DECLS

/* The records of the index at @index_path whose file in @dir is there with the recorded size
 * (element-type KithAliasRecord, unverified; caller owns), each href kept only by the first
 * record naming it. The file of a record that is missing or of the wrong size is deleted and
 * @stale set (the index on disk no longer says what is there); the file of a record left
 * without an href is deleted too. */
GPtrArray *kith_alias_recovery_load (const gchar *dir, const gchar *index_path, gboolean *stale);

/* Clears the leftovers of a crash in @dir: partial writes are deleted, and each regular file
 * named by a sha256 that @known (sha256 → anything) lacks is returned to be adopted, as a
 * record of its size with no href (element-type KithAliasRecord, unverified; caller owns). */
GPtrArray *kith_alias_recovery_scan_strays (const gchar *dir, GHashTable *known);

/* The end of re-hashing: @bad holds the sha256s whose file is unreadable or does not match
 * its name (element-type utf8; borrowed). */
typedef void (*KithAliasRecoveryVerifiedFunc) (GObject *owner, GPtrArray *bad);

/* Re-hashes the files @sha256s (copied) in @dir in a worker thread, then calls @done on
 * @owner, unless @owner was finalized or @cancellable cancelled first. Holds no reference
 * on @owner, so dropping it ends the work. */
void kith_alias_recovery_verify (const gchar *dir, GPtrArray *sha256s, GCancellable *cancellable,
                                 KithAliasRecoveryVerifiedFunc done, GObject *owner);

G_END_DECLS
