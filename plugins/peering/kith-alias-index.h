/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-alias-index.h — index.json of the alias store: one record per file
 *
 *   {"version":1,"files":[{"sha256","size","created","last-access","hrefs":[...],
 *                          "verified":"hash"|"origin"|"peer"|"lan"}]}
 * (an absent "verified" reads as "lan": nothing known, nothing vouched for)
 */
#pragma once

#include <glib.h>

#include "kith-alias-entry.h"

G_BEGIN_DECLS

/* One file of the store. */
typedef struct {
  gchar *sha256;    /* lower-case hex; the file's name */
  guint64 size;
  gint64 created;   /* ms, store clock */
  gint64 last_access;
  GPtrArray *hrefs; /* gchar*; empty only for a file adopted without its record */
  KithAliasTrust trust; /* "verified": how its bytes were verified when stored */
  gboolean verified; /* in memory only: its bytes were hashed since loading */
} KithAliasRecord;

/* A record for @sha256 of @size with no hrefs yet. */
KithAliasRecord *kith_alias_record_new (const gchar *sha256, guint64 size);
void kith_alias_record_free (KithAliasRecord *record);

/* Reads the index at @path: the well-formed records (element-type KithAliasRecord), with
 * unique sha256s (64 lower-case hex digits, kith_hex_is_valid()) and non-empty hrefs.
 * Malformed records are skipped; of an index that does not parse (e.g. truncated), the
 * records that are whole are salvaged. Sets @damaged when the index was unreadable, of an
 * unknown format or had malformed records; an absent index is empty and not damaged. Never
 * NULL. */
GPtrArray *kith_alias_index_load (const gchar *path, gboolean *damaged);
/* Replaces the index at @path atomically and durably with @records (element-type
 * KithAliasRecord). */
gboolean kith_alias_index_save (const gchar *path, GPtrArray *records, GError **error);

G_END_DECLS
