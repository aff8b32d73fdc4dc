/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-piece-list.c — per-piece SHA-256 of one file (kith-piece-list.h) */
#include "kith-piece-list.h"

#include <string.h>

#include "kith-hex.h"

#define KITH_PIECE_LIST_HEX 64

struct _KithPieceList {
  guint64 file_size;
  guint64 piece_size;
  guint count;
  gchar *hashes; /* count * 64 lowercase hex digits */
};

static KithPieceList *
kith_piece_list_bad (GError **error, const gchar *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "piece list: %s", what);
  return NULL;
}

KithPieceList *
kith_piece_list_new (guint64 file_size, guint64 piece_size, const gchar *hashes, GError **error)
{
  KithPieceList *self;
  guint64 count;

  if (file_size == 0)
    return kith_piece_list_bad (error, "the file is empty");
  if (piece_size < KITH_PIECE_LIST_MIN_PIECE_SIZE || piece_size > KITH_PIECE_LIST_MAX_PIECE_SIZE)
    return kith_piece_list_bad (error, "the piece size is out of bounds");
  count = (file_size + piece_size - 1) / piece_size;
  if (count > KITH_PIECE_LIST_MAX_PIECES)
    return kith_piece_list_bad (error, "too many pieces");
  /* the length first: a list of the wrong size is refused before its digits are read */
  if (hashes == NULL || strlen (hashes) != count * KITH_PIECE_LIST_HEX)
    return kith_piece_list_bad (error, "not one 64-digit hash per piece");
  if (!kith_hex_is_valid (hashes, count * KITH_PIECE_LIST_HEX, count * KITH_PIECE_LIST_HEX))
    return kith_piece_list_bad (error, "a hash is not lowercase hex");
  self = g_new0 (KithPieceList, 1);
  self->file_size = file_size;
  self->piece_size = piece_size;
  self->count = (guint) count;
  self->hashes = g_strdup (hashes);
  return self;
}

KithPieceList *
kith_piece_list_new_from_file (const gchar *path, guint64 piece_size, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = g_file_read (file, NULL, error);
  g_autoptr (GString) hashes = g_string_new (NULL);
  g_autofree guint8 *buffer = NULL;
  guint64 total = 0;

  if (in == NULL)
    return NULL;
  if (piece_size < KITH_PIECE_LIST_MIN_PIECE_SIZE || piece_size > KITH_PIECE_LIST_MAX_PIECE_SIZE)
    return kith_piece_list_bad (error, "the piece size is out of bounds");
  buffer = g_malloc (piece_size);
  for (;;) {
    gsize got = 0;
    g_autofree gchar *sha256 = NULL;
    if (!g_input_stream_read_all (G_INPUT_STREAM (in), buffer, piece_size, &got, NULL, error))
      return NULL;
    if (got == 0)
      break;
    sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, buffer, got);
    g_string_append (hashes, sha256);
    total += got;
    if (got < piece_size)
      break;
  }
  return kith_piece_list_new (total, piece_size, hashes->str, error);
}

KithPieceList *
kith_piece_list_copy (const KithPieceList *self)
{
  KithPieceList *copy = g_memdup2 (self, sizeof *self);
  copy->hashes = g_strdup (self->hashes);
  return copy;
}

void
kith_piece_list_free (KithPieceList *self)
{
  if (self == NULL)
    return;
  g_free (self->hashes);
  g_free (self);
}

guint64
kith_piece_list_get_file_size (const KithPieceList *self)
{
  return self->file_size;
}

guint64
kith_piece_list_get_piece_size (const KithPieceList *self)
{
  return self->piece_size;
}

guint
kith_piece_list_get_count (const KithPieceList *self)
{
  return self->count;
}

const gchar *
kith_piece_list_get_hashes (const KithPieceList *self)
{
  return self->hashes;
}

void
kith_piece_list_get_piece (const KithPieceList *self, guint index, guint64 *offset, guint64 *length)
{
  g_return_if_fail (index < self->count);
  *offset = (guint64) index * self->piece_size;
  *length = MIN (self->piece_size, self->file_size - *offset);
}

gboolean
kith_piece_list_matches (const KithPieceList *self, guint index, const gchar *sha256)
{
  if (index >= self->count || sha256 == NULL || strlen (sha256) != KITH_PIECE_LIST_HEX)
    return FALSE;
  return memcmp (self->hashes + (gsize) index * KITH_PIECE_LIST_HEX, sha256, KITH_PIECE_LIST_HEX) == 0;
}

gboolean
kith_piece_list_verify (const KithPieceList *self, guint index, const guint8 *data, gsize len)
{
  g_autofree gchar *sha256 = NULL;
  guint64 offset, length;

  if (index >= self->count)
    return FALSE;
  kith_piece_list_get_piece (self, index, &offset, &length);
  if (len != length)
    return FALSE;
  sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, len);
  return kith_piece_list_matches (self, index, sha256);
}
