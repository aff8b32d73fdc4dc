/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-piece-map.c — a bit per piece, and its strict hex form (kith-piece-map.h) */
#include "kith-piece-map.h"

#include <gio/gio.h>

#include "kith-hex.h"

struct _KithPieceMap {
  guint count;
  guint set;
  guint8 *bits; /* (count + 7) / 8 bytes */
};

static gsize
kith_piece_map_bytes (guint count)
{
  return ((gsize) count + 7) / 8;
}

KithPieceMap *
kith_piece_map_new (guint count)
{
  KithPieceMap *self;

  g_return_val_if_fail (count > 0, NULL);
  self = g_new0 (KithPieceMap, 1);
  self->count = count;
  self->bits = g_new0 (guint8, kith_piece_map_bytes (count));
  return self;
}

static gint
kith_piece_map_digit (gchar c)
{
  return c <= '9' ? c - '0' : c - 'a' + 10;
}

KithPieceMap *
kith_piece_map_new_from_hex (const gchar *hex, guint count, GError **error)
{
  gsize bytes = kith_piece_map_bytes (count);
  g_autoptr (KithPieceMap) self = NULL;

  if (count == 0 || hex == NULL || !kith_hex_is_valid (hex, 2 * bytes, 2 * bytes)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "a map of %u pieces is %" G_GSIZE_FORMAT
                 " lowercase hex digits", count, 2 * bytes);
    return NULL;
  }
  self = kith_piece_map_new (count);
  for (gsize i = 0; i < bytes; i++)
    self->bits[i] = (guint8) (kith_piece_map_digit (hex[2 * i]) << 4 | kith_piece_map_digit (hex[2 * i + 1]));
  if (count % 8 != 0 && (self->bits[bytes - 1] & (0xff >> (count % 8))) != 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the map names pieces past the last of %u", count);
    return NULL;
  }
  for (gsize i = 0; i < bytes; i++)
    self->set += (guint) __builtin_popcount (self->bits[i]);
  return g_steal_pointer (&self);
}

void
kith_piece_map_free (KithPieceMap *self)
{
  if (self == NULL)
    return;
  g_free (self->bits);
  g_free (self);
}

guint
kith_piece_map_get_count (const KithPieceMap *self)
{
  return self->count;
}

gboolean
kith_piece_map_get (const KithPieceMap *self, guint index)
{
  g_return_val_if_fail (index < self->count, FALSE);
  return (self->bits[index / 8] & (0x80 >> (index % 8))) != 0;
}

void
kith_piece_map_set (KithPieceMap *self, guint index)
{
  g_return_if_fail (index < self->count);
  if (kith_piece_map_get (self, index))
    return;
  self->bits[index / 8] |= (guint8) (0x80 >> (index % 8));
  self->set++;
}

void
kith_piece_map_set_all (KithPieceMap *self)
{
  for (guint i = 0; i < self->count; i++)
    kith_piece_map_set (self, i);
}

guint
kith_piece_map_get_set_count (const KithPieceMap *self)
{
  return self->set;
}

gboolean
kith_piece_map_covers (const KithPieceMap *self, const KithPieceMap *other)
{
  g_return_val_if_fail (self->count == other->count, FALSE);
  for (gsize i = 0; i < kith_piece_map_bytes (self->count); i++)
    if ((other->bits[i] & ~self->bits[i]) != 0)
      return FALSE;
  return TRUE;
}

gchar *
kith_piece_map_to_hex (const KithPieceMap *self)
{
  static const gchar digits[] = "0123456789abcdef";
  gsize bytes = kith_piece_map_bytes (self->count);
  gchar *hex = g_new (gchar, 2 * bytes + 1);

  for (gsize i = 0; i < bytes; i++) {
    hex[2 * i] = digits[self->bits[i] >> 4];
    hex[2 * i + 1] = digits[self->bits[i] & 0xf];
  }
  hex[2 * bytes] = '\0';
  return hex;
}
