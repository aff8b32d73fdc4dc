/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-piece-list.h — the SHA-256 of every fixed-size piece of one file, so that a file
 * fetched from many sources can be checked piece by piece as it arrives (docs/protocol.md
 * "Pieces"). A list is trusted only as far as where it came from: the signed catalog
 * carries one for each large file (docs/backend.md). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The piece size kith-backend publish uses (Delivery Optimization's is 1 MB, Kraken's
 * 4 MB: at 100 Mbit/s a 1 MiB piece is 84 ms on the wire, fine enough to spread a file
 * over several sources and cheap to refetch when one lies). */
#define KITH_PIECE_LIST_PIECE_SIZE (1024 * 1024)
/* Files at least this big get a list (8 pieces: below it a whole file takes < 0.7 s at
 * 100 Mbit/s and a GET per piece would cost more than the sources it adds). */
#define KITH_PIECE_LIST_MIN_FILE_SIZE (8 * 1024 * 1024)
/* Bounds of any list accepted (the catalog's 4 MiB bound is reached long before). */
#define KITH_PIECE_LIST_MIN_PIECE_SIZE (64 * 1024)
#define KITH_PIECE_LIST_MAX_PIECE_SIZE (64 * 1024 * 1024)
#define KITH_PIECE_LIST_MAX_PIECES 65536

typedef struct _KithPieceList KithPieceList;

/* The list of a @file_size-byte file cut in @piece_size pieces (the last may be shorter),
 * from @hashes: the pieces' SHA-256 as lowercase hex, one after another (64 digits each,
 * exactly as many as there are pieces). NULL with G_IO_ERROR_INVALID_DATA when a bound is
 * broken (a size of 0, a piece size out of bounds, too many pieces, a wrong count of
 * digits, a digit that is not lowercase hex). Free with kith_piece_list_free(). */
KithPieceList *kith_piece_list_new (guint64 file_size, guint64 piece_size, const gchar *hashes,
                                    GError **error);
/* The list of the file at @path, in @piece_size pieces (reads the whole file). */
KithPieceList *kith_piece_list_new_from_file (const gchar *path, guint64 piece_size, GError **error);
KithPieceList *kith_piece_list_copy (const KithPieceList *self);
void kith_piece_list_free (KithPieceList *self);

guint64 kith_piece_list_get_file_size (const KithPieceList *self);
guint64 kith_piece_list_get_piece_size (const KithPieceList *self);
guint kith_piece_list_get_count (const KithPieceList *self);
/* All the hashes, as given to kith_piece_list_new(); owned by @self. */
const gchar *kith_piece_list_get_hashes (const KithPieceList *self);
/* Where piece @index (< count) lies in the file. */
void kith_piece_list_get_piece (const KithPieceList *self, guint index, guint64 *offset, guint64 *length);
/* Whether @sha256 (lowercase hex) is that of piece @index. */
gboolean kith_piece_list_matches (const KithPieceList *self, guint index, const gchar *sha256);
/* Whether @data (@len bytes) is piece @index: its length and its hash. */
gboolean kith_piece_list_verify (const KithPieceList *self, guint index, const guint8 *data, gsize len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithPieceList, kith_piece_list_free)

G_END_DECLS
