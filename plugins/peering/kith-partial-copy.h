/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-partial-copy.h — a copy still being written (a download in progress), readable by
 * others while it grows: GROWING, then COMPLETE (the store took the verified file) or
 * FAILED. The bytes are read from the file being written; the copy opens it when it is
 * created, so readers keep reading after the store renames or evicts it.
 *
 * A copy fetched in pieces (docs/protocol.md "Pieces") also has a piece map: the pieces
 * verified so far, in any order; those may be read while the copy grows (nothing else
 * beyond the verified prefix is). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  KITH_PARTIAL_COPY_GROWING,
  KITH_PARTIAL_COPY_COMPLETE,
  KITH_PARTIAL_COPY_FAILED,
} KithPartialCopyState;

/* Signal "changed" (no arguments): bytes were added, the total became known, or the
 * state changed. The copy belongs to the thread that created it. */
#define KITH_TYPE_PARTIAL_COPY (kith_partial_copy_get_type ())
G_DECLARE_FINAL_TYPE (KithPartialCopy, kith_partial_copy, KITH, PARTIAL_COPY, GObject)

/* A copy named @token (the unguessable last segment of its URL) of @href, whose bytes
 * are being appended to the file at @path; @total is its size, 0 while unknown. NULL
 * with @error when @path cannot be opened. Caller owns. */
KithPartialCopy *kith_partial_copy_new (const gchar *token, const gchar *href, const gchar *path,
                                        guint64 total, GError **error);
const gchar *kith_partial_copy_get_token (KithPartialCopy *self);
const gchar *kith_partial_copy_get_href (KithPartialCopy *self);
KithPartialCopyState kith_partial_copy_get_state (KithPartialCopy *self);
/* The size: 0 while unknown; once complete, the real size. */
guint64 kith_partial_copy_get_total (KithPartialCopy *self);
void kith_partial_copy_set_total (KithPartialCopy *self, guint64 total);
/* Bytes written to the file so far. */
guint64 kith_partial_copy_get_available (KithPartialCopy *self);
/* Bytes a reader may be given now: all of them once complete; while growing, all but the
 * last byte of the file, so that nobody completes a copy before it was verified — every
 * byte written short of it when the size is known, all but the last written while it is
 * not (any of them may be the file's last). */
guint64 kith_partial_copy_get_readable (KithPartialCopy *self);
/* @len more bytes were appended to the file. */
void kith_partial_copy_grow (KithPartialCopy *self, guint64 len);
/* The store accepted the verified file: @sha256 of every byte written. */
void kith_partial_copy_complete (KithPartialCopy *self, const gchar *sha256);
/* The download failed or was abandoned; readers must be cut. No-op once finished. */
void kith_partial_copy_fail (KithPartialCopy *self);
/* The verified sha256 once complete, else NULL; owned by @self. */
const gchar *kith_partial_copy_get_sha256 (KithPartialCopy *self);
/* Up to @len readable bytes from @offset (fewer only at the readable end); caller owns. */
GBytes *kith_partial_copy_read (KithPartialCopy *self, guint64 offset, gsize len, GError **error);
/* A new descriptor of the copy's file (the one opened before any rename), for sendfile(2);
 * -1 where there is none. Caller closes it. */
gint kith_partial_copy_dup_fd (KithPartialCopy *self);

/* Readers being served: a reader is admitted only while fewer than @max are (TRUE: counted). */
gboolean kith_partial_copy_add_reader (KithPartialCopy *self, guint max);
void kith_partial_copy_remove_reader (KithPartialCopy *self);
guint kith_partial_copy_get_readers (KithPartialCopy *self);

/* Gives the copy a piece map of @count pieces of @piece_size bytes (the last may be
 * shorter), none verified yet. Once, while growing. */
void kith_partial_copy_set_pieces (KithPartialCopy *self, guint64 piece_size, guint count);
/* Piece @index was verified and written at its place. */
void kith_partial_copy_add_piece (KithPartialCopy *self, guint index);
/* Whether the copy has a piece map. */
gboolean kith_partial_copy_has_pieces (KithPartialCopy *self);
/* Whether bytes [@start, @end) may be read now: once complete, all; while growing, those
 * of verified pieces (with a piece map), else the readable prefix. */
gboolean kith_partial_copy_has_range (KithPartialCopy *self, guint64 start, guint64 end);
/* The piece map as sent in the Kith-Pieces header (kith-piece-map.h), or NULL without
 * one; all pieces once complete. Caller frees. */
gchar *kith_partial_copy_get_piece_map (KithPartialCopy *self);

G_END_DECLS
