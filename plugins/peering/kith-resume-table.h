/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-resume-table.h — downloads of a whole file that broke mid-way (their source died, the
 * connection was cut), kept so that the next attempt at the same file asks its source only
 * for the rest (Range: bytes=N-, kith_peer_download_set_resume()): the bytes in so far and
 * their running SHA-256, in their KithAliasWriter. Only for a known sha256 and size (the
 * end still checks every byte), bounded in number and in time. */
#pragma once

#include "kith-alias-writer.h"

G_BEGIN_DECLS

/* Downloads kept at most: the oldest goes first. */
#define KITH_RESUME_TABLE_MAX 8
/* How long one is kept for the next attempt (a search, a wait for a leader, a caller's retry). */
#define KITH_RESUME_TABLE_KEEP_MS 60000

/* Where a broken download stopped. */
typedef struct {
  KithAliasWriter *writer; /* the bytes in so far (kith_alias_writer_get_size()) */
  /* who sent which bytes, in order: span i is bytes [end of span i-1 (0), span_ends[i]) of
   * span_nodes[i] ("origin" for the origin), so that a copy that does not match can be
   * held against exactly the senders whose bytes were wrong; the origin's share and the
   * peers that sent the rest follow from them */
  GPtrArray *span_nodes;
  GArray *span_ends; /* guint64 */
  guint64 size;            /* of the file (set when parked) */
} KithResumePoint;

/* A point at @writer (taken), with no byte yet from anybody. Caller owns. */
KithResumePoint *kith_resume_point_new (KithAliasWriter *writer);
/* Frees @point: its writer's temporary file is deleted. */
void kith_resume_point_free (KithResumePoint *point);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithResumePoint, kith_resume_point_free)

typedef struct _KithResumeTable KithResumeTable;

/* An empty table, @keep_ms per point. Caller owns. */
KithResumeTable *kith_resume_table_new (guint keep_ms);
/* Frees the table and every point still in it. */
void kith_resume_table_free (KithResumeTable *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithResumeTable, kith_resume_table_free)
/* Keeps @point (taken) for the file @href of @sha256 and @size, in place of one kept before. */
void kith_resume_table_park (KithResumeTable *self, const gchar *href, const gchar *sha256, guint64 size,
                             KithResumePoint *point);
/* The point kept for that very file (@size 0: of any size, its own in point->size), removed
 * from the table, or NULL. Caller owns. */
KithResumePoint *kith_resume_table_take (KithResumeTable *self, const gchar *href, const gchar *sha256,
                                         guint64 size);
/* Points kept now. */
guint kith_resume_table_get_count (KithResumeTable *self);

G_END_DECLS
