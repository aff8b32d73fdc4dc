/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-piece-map.h — which pieces of a file a copy has verified, and its wire form: the
 * Kith-Pieces header of a partial copy fetched in pieces (docs/protocol.md "Pieces"),
 * one bit per piece, piece 0 the high bit of the first byte, as lowercase hex of exactly
 * ceil(count / 8) bytes whose unused low bits are zero. Parsing is strict: a map from the
 * network of any other length or spelling is refused. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KITH_PIECE_MAP_HEADER "Kith-Pieces"

typedef struct _KithPieceMap KithPieceMap;

/* A map of @count (> 0) pieces, none set. */
KithPieceMap *kith_piece_map_new (guint count);
/* The map @hex says, for a file of @count pieces; NULL with G_IO_ERROR_INVALID_DATA when
 * @hex is not exactly that map (length, digits, a bit past the last piece). */
KithPieceMap *kith_piece_map_new_from_hex (const gchar *hex, guint count, GError **error);
void kith_piece_map_free (KithPieceMap *self);
guint kith_piece_map_get_count (const KithPieceMap *self);
gboolean kith_piece_map_get (const KithPieceMap *self, guint index);
void kith_piece_map_set (KithPieceMap *self, guint index);
void kith_piece_map_set_all (KithPieceMap *self);
/* Pieces set. */
guint kith_piece_map_get_set_count (const KithPieceMap *self);
/* Whether every piece set in @other is set in @self (same count). */
gboolean kith_piece_map_covers (const KithPieceMap *self, const KithPieceMap *other);
/* The wire form; caller frees. */
gchar *kith_piece_map_to_hex (const KithPieceMap *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithPieceMap, kith_piece_map_free)

G_END_DECLS
