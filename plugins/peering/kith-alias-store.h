/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-alias-store.h — the node's verified copies of files, named by sha256 */
#pragma once

#include <glib-object.h>

#include "kith-alias-entry.h"
#include "kith-alias-writer.h"

G_BEGIN_DECLS

/* The store's clock in ms since the epoch; injectable for tests. */
typedef gint64 (*KithAliasClockFunc) (gpointer user_data);

/* The store belongs to the thread (main context) that created it; it is not thread-safe.
 * Signal "changed" (no arguments): an entry appeared, disappeared or became visible. */
#define KITH_TYPE_ALIAS_STORE (kith_alias_store_get_type ())
G_DECLARE_FINAL_TYPE (KithAliasStore, kith_alias_store, KITH, ALIAS_STORE, GObject)

/*
 * Opens (creating it if needed) the store in @cache_dir and loads its index.
 * @max_bytes: budget, LRU-evicted above it (0 = unlimited);
 * @max_age_ms: a copy older than this is dropped (0 = forever).
 * Files recorded in the index are re-hashed in a worker thread and stay
 * invisible until verified; see kith_alias_store_is_verifying(). Caller owns.
 */
KithAliasStore *kith_alias_store_new (const gchar *cache_dir, guint64 max_bytes,
                                      guint64 max_age_ms, GError **error);
/* Replaces the wall clock (for tests); resets to it when @func is NULL. */
void kith_alias_store_set_clock (KithAliasStore *self, KithAliasClockFunc func,
                                 gpointer user_data);
/* TRUE while startup verification runs; "changed" is emitted when it ends. */
gboolean kith_alias_store_is_verifying (KithAliasStore *self);
/* The cache directory; owned by @self. */
const gchar *kith_alias_store_get_cache_dir (KithAliasStore *self);

/* The verified, unexpired copy of @href, or NULL; caller owns the copy. */
KithAliasEntry *kith_alias_store_lookup_href (KithAliasStore *self, const gchar *href);
/* The verified, unexpired file with @sha256 (its first href), or NULL; caller owns. */
KithAliasEntry *kith_alias_store_lookup_sha256 (KithAliasStore *self, const gchar *sha256);
/* Marks @sha256 as used now, for LRU; the index is saved lazily. */
void kith_alias_store_touch (KithAliasStore *self, const gchar *sha256);
/* Deletes the file @sha256 and every href pointing at it; FALSE if unknown. */
gboolean kith_alias_store_remove (KithAliasStore *self, const gchar *sha256, GError **error);
/* Drops expired copies now; returns how many. Expired copies are hidden at once and
 * deleted here, at startup and on every commit; call it on a timer to reclaim sooner. */
guint kith_alias_store_expire (KithAliasStore *self);
/* Bytes of all files in the index (verified or not). */
guint64 kith_alias_store_get_total_bytes (KithAliasStore *self);
/* Every visible href, oldest access first; caller owns (element-type KithAliasEntry). */
GPtrArray *kith_alias_store_get_entries (KithAliasStore *self);
/* Writes the index now (it is saved after every change; touches are batched). */
gboolean kith_alias_store_save (KithAliasStore *self, GError **error);

/*
 * Starts writing a copy of @href; data goes to a temporary file in the cache
 * directory and is hashed as it arrives. @expected_sha256 (nullable, hex) and
 * @expected_size (0 = unknown) are checked by kith_alias_writer_commit(), which
 * publishes the file into the store. Caller owns the writer.
 */
KithAliasWriter *kith_alias_store_begin (KithAliasStore *self, const gchar *href,
                                         const gchar *expected_sha256,
                                         guint64 expected_size, GError **error);
/* Imports a copy of the file at @path as @href (synchronous copy + hash). Caller owns. */
KithAliasEntry *kith_alias_store_add_file (KithAliasStore *self, const gchar *href,
                                           const gchar *path, const gchar *expected_sha256,
                                           GError **error);

G_END_DECLS
