/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-alias-entry.h — one href of the alias store, as callers see it */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * KithAliasEntry:
 * @href: the origin URL this file is a copy of
 * @sha256: lower-case hex digest of the content; also its file name
 * @size: size in bytes
 * @created: when the copy was stored (ms since the epoch, store clock)
 * @last_access: when the copy was last served or committed (ms, store clock)
 * @path: absolute path of the file in the cache directory
 *
 * A value describing one href of the store; several hrefs may share a sha256
 * (and one file). Read-only for callers.
 */
typedef struct {
  gchar *href;
  gchar *sha256;
  guint64 size;
  gint64 created;
  gint64 last_access;
  gchar *path;
} KithAliasEntry;

/* Deep copy of @entry; free with kith_alias_entry_free(). */
KithAliasEntry *kith_alias_entry_copy (const KithAliasEntry *entry);
/* Frees @entry; NULL is ignored. */
void kith_alias_entry_free (KithAliasEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithAliasEntry, kith_alias_entry_free)

G_END_DECLS
