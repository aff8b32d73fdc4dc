/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-alias-writer.h — a file being written into the alias store: a temporary file,
 * hashed as the bytes arrive, checked and handed to the store on commit */
#pragma once

#include <glib-object.h>

#include "kith-alias-entry.h"

G_BEGIN_DECLS

typedef struct _KithAliasWriter KithAliasWriter;

/* Moves the complete, checked, durable temporary file @tmp_path into the store as @href
 * with content @sha256 of @size bytes; returns the new entry, or NULL with @error (and
 * @tmp_path left in place). */
typedef KithAliasEntry *(*KithAliasPublishFunc) (GObject *owner, const gchar *tmp_path,
                                                 const gchar *href, const gchar *sha256,
                                                 guint64 size, KithAliasTrust trust,
                                                 GError **error);

/* Starts a temporary file in @dir for @href; @expected_sha256 (nullable, hex) and
 * @expected_size (0 = unknown) are checked by commit, which then calls @publish on
 * @owner (referenced by the writer). Use kith_alias_store_begin(). */
KithAliasWriter *kith_alias_writer_new (const gchar *dir, const gchar *href,
                                        const gchar *expected_sha256, guint64 expected_size,
                                        KithAliasPublishFunc publish, GObject *owner,
                                        GError **error);
/* Appends @len bytes of @data. */
gboolean kith_alias_writer_write (KithAliasWriter *writer, const guint8 *data, gsize len,
                                  GError **error);
/* Writes @len bytes at @offset, for a file that arrives in pieces out of order: once a
 * write is not an append, commit hashes the file from disk instead of as it came. */
gboolean kith_alias_writer_write_at (KithAliasWriter *writer, guint64 offset, const guint8 *data, gsize len,
                                     GError **error);
/* Throws away every byte written so far (the file is truncated, the hash starts again):
 * a download resumed from a source that sends the whole file again from its first byte. */
gboolean kith_alias_writer_restart (KithAliasWriter *writer, GError **error);
/* Whether the bytes written so far have the expected size and sha256 (TRUE without them),
 * else FALSE with KITH_PEERING_ERROR_HASH_MISMATCH saying how they differ. Ends the hashing
 * as it is: only commit or restart may follow. */
gboolean kith_alias_writer_matches (KithAliasWriter *writer, GError **error);
/* How the bytes being written are verified (recorded with the file); default
 * KITH_ALIAS_TRUST_LAN. Set it before commit. */
void kith_alias_writer_set_trust (KithAliasWriter *writer, KithAliasTrust trust);
/* Bytes written so far. */
guint64 kith_alias_writer_get_size (KithAliasWriter *writer);
/* The temporary file being written (a partial copy reads it while it grows); owned by
 * the writer, renamed into the store by commit, deleted by free. */
const gchar *kith_alias_writer_get_path (KithAliasWriter *writer);
/*
 * Verifies size and sha256 (KITH_PEERING_ERROR_HASH_MISMATCH, temp file
 * removed), makes the file durable, publishes it, saves the index and evicts
 * other files above the budget. Returns the new entry; caller owns it.
 * The writer must still be freed.
 */
KithAliasEntry *kith_alias_writer_commit (KithAliasWriter *writer, GError **error);
/* Frees @writer; an uncommitted temp file is deleted (this is the abort). */
void kith_alias_writer_free (KithAliasWriter *writer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithAliasWriter, kith_alias_writer_free)

/* The name prefix of temporary files in the store's directory. */
#define KITH_ALIAS_WRITER_PARTIAL_PREFIX ".partial-"

G_END_DECLS
