/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-partial-copy.c — a download in progress, readable while it grows */
#include "kith-partial-copy.h"

#include <fcntl.h>
#ifdef G_OS_UNIX
#include <gio/gfiledescriptorbased.h>
#endif

#include "kith-peering-error.h"
#include "kith-piece-map.h"

struct _KithPartialCopy {
  GObject parent_instance;
  gchar *token;
  gchar *href;
  gchar *sha256;
  GFileInputStream *file; /* the file being written, opened before any rename */
  KithPartialCopyState state;
  guint64 total;
  guint64 available;
  guint readers;
  KithPieceMap *pieces; /* verified pieces, or NULL: the copy grows in order */
  guint64 piece_size;
};

enum { KITH_PARTIAL_COPY_SIGNAL_CHANGED, KITH_PARTIAL_COPY_N_SIGNALS };
static guint kith_partial_copy_signals[KITH_PARTIAL_COPY_N_SIGNALS];

G_DEFINE_TYPE (KithPartialCopy, kith_partial_copy, G_TYPE_OBJECT)

static void
kith_partial_copy_finalize (GObject *object)
{
  KithPartialCopy *self = KITH_PARTIAL_COPY (object);

  g_clear_object (&self->file);
  g_clear_pointer (&self->pieces, kith_piece_map_free);
  g_free (self->token);
  g_free (self->href);
  g_free (self->sha256);
  G_OBJECT_CLASS (kith_partial_copy_parent_class)->finalize (object);
}

static void
kith_partial_copy_class_init (KithPartialCopyClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kith_partial_copy_finalize;
  kith_partial_copy_signals[KITH_PARTIAL_COPY_SIGNAL_CHANGED] =
      g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 0);
}

static void
kith_partial_copy_init (KithPartialCopy *self)
{
  self->state = KITH_PARTIAL_COPY_GROWING;
}

KithPartialCopy *
kith_partial_copy_new (const gchar *token, const gchar *href, const gchar *path, guint64 total,
                       GError **error)
{
  g_autoptr (KithPartialCopy) self = NULL;
  g_autoptr (GFile) file = NULL;

  g_return_val_if_fail (token != NULL && href != NULL && path != NULL, NULL);
  self = g_object_new (KITH_TYPE_PARTIAL_COPY, NULL);
  file = g_file_new_for_path (path);
  self->file = g_file_read (file, NULL, error);
  if (self->file == NULL)
    return NULL;
  self->token = g_strdup (token);
  self->href = g_strdup (href);
  self->total = total;
  return g_steal_pointer (&self);
}

const gchar *
kith_partial_copy_get_token (KithPartialCopy *self)
{
  g_return_val_if_fail (KITH_IS_PARTIAL_COPY (self), NULL);
  return self->token;
}

const gchar *
kith_partial_copy_get_href (KithPartialCopy *self)
{
  g_return_val_if_fail (KITH_IS_PARTIAL_COPY (self), NULL);
  return self->href;
}

KithPartialCopyState
kith_partial_copy_get_state (KithPartialCopy *self)
{
  g_return_val_if_fail (KITH_IS_PARTIAL_COPY (self), KITH_PARTIAL_COPY_FAILED);
  return self->state;
}

guint64
kith_partial_copy_get_total (KithPartialCopy *self)
{
  g_return_val_if_fail (KITH_IS_PARTIAL_COPY (self), 0);
  return self->total;
}

static void
kith_partial_copy_changed (KithPartialCopy *self)
{
  g_signal_emit (self, kith_partial_copy_signals[KITH_PARTIAL_COPY_SIGNAL_CHANGED], 0);
}

void
kith_partial_copy_set_total (KithPartialCopy *self, guint64 total)
{
  g_return_if_fail (KITH_IS_PARTIAL_COPY (self));
  if (self->state != KITH_PARTIAL_COPY_GROWING || self->total == total)
    return;
  self->total = total;
  kith_partial_copy_changed (self);
}

guint64
kith_partial_copy_get_available (KithPartialCopy *self)
{
  g_return_val_if_fail (KITH_IS_PARTIAL_COPY (self), 0);
  return self->available;
}

guint64
kith_partial_copy_get_readable (KithPartialCopy *self)
{
  g_return_val_if_fail (KITH_IS_PARTIAL_COPY (self), 0);
  switch (self->state) {
  case KITH_PARTIAL_COPY_COMPLETE:
    return self->available;
  case KITH_PARTIAL_COPY_GROWING:
    /* the byte held back is the one that would let a reader end the file before the store
     * verified it: with a known size, only the file's last byte; with none, any byte
     * written may be the last */
    if (self->total > 0)
      return MIN (self->available, self->total - 1);
    return self->available > 0 ? self->available - 1 : 0;
  default:
    return 0;
  }
}

void
kith_partial_copy_grow (KithPartialCopy *self, guint64 len)
{
  g_return_if_fail (KITH_IS_PARTIAL_COPY (self));
  if (self->state != KITH_PARTIAL_COPY_GROWING || len == 0)
    return;
  self->available += len;
  kith_partial_copy_changed (self);
}

void
kith_partial_copy_complete (KithPartialCopy *self, const gchar *sha256)
{
  g_return_if_fail (KITH_IS_PARTIAL_COPY (self));
  if (self->state != KITH_PARTIAL_COPY_GROWING)
    return;
  self->state = KITH_PARTIAL_COPY_COMPLETE;
  self->sha256 = g_strdup (sha256);
  self->total = self->available;
  kith_partial_copy_changed (self);
}

void
kith_partial_copy_fail (KithPartialCopy *self)
{
  g_return_if_fail (KITH_IS_PARTIAL_COPY (self));
  if (self->state != KITH_PARTIAL_COPY_GROWING)
    return;
  self->state = KITH_PARTIAL_COPY_FAILED;
  kith_partial_copy_changed (self);
}

const gchar *
kith_partial_copy_get_sha256 (KithPartialCopy *self)
{
  g_return_val_if_fail (KITH_IS_PARTIAL_COPY (self), NULL);
  return self->sha256;
}

GBytes *
kith_partial_copy_read (KithPartialCopy *self, guint64 offset, gsize len, GError **error)
{
  guint64 readable = kith_partial_copy_get_readable (self);
  g_autofree guint8 *data = NULL;
  gsize n = 0;

  /* verified pieces past the prefix */
  if (self->pieces != NULL && offset + len > readable && kith_partial_copy_has_range (self, offset, offset + len))
    readable = offset + len;
  if (offset > readable) {
    g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_FAILED,
                 "offset %" G_GUINT64_FORMAT " is past the %" G_GUINT64_FORMAT " readable bytes",
                 offset, readable);
    return NULL;
  }
  len = (gsize) MIN ((guint64) len, readable - offset);
  data = g_malloc (MAX (len, 1));
  if (!g_seekable_seek (G_SEEKABLE (self->file), (goffset) offset, G_SEEK_SET, NULL, error) ||
      !g_input_stream_read_all (G_INPUT_STREAM (self->file), data, len, &n, NULL, error))
    return NULL;
  if (n != len) {
    g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_FAILED,
                 "the partial copy of %s is shorter on disk than written", self->href);
    return NULL;
  }
  return g_bytes_new_take (g_steal_pointer (&data), len);
}

gint
kith_partial_copy_dup_fd (KithPartialCopy *self)
{
  g_return_val_if_fail (KITH_IS_PARTIAL_COPY (self), -1);
#if defined(G_OS_UNIX) && defined(F_DUPFD_CLOEXEC)
  if (G_IS_FILE_DESCRIPTOR_BASED (self->file))
    return fcntl (g_file_descriptor_based_get_fd (G_FILE_DESCRIPTOR_BASED (self->file)), F_DUPFD_CLOEXEC, 0);
#endif
  return -1;
}

gboolean
kith_partial_copy_add_reader (KithPartialCopy *self, guint max)
{
  g_return_val_if_fail (KITH_IS_PARTIAL_COPY (self), FALSE);
  if (self->readers >= max)
    return FALSE;
  self->readers++;
  return TRUE;
}

void
kith_partial_copy_remove_reader (KithPartialCopy *self)
{
  g_return_if_fail (KITH_IS_PARTIAL_COPY (self));
  g_return_if_fail (self->readers > 0);
  self->readers--;
}

guint
kith_partial_copy_get_readers (KithPartialCopy *self)
{
  g_return_val_if_fail (KITH_IS_PARTIAL_COPY (self), 0);
  return self->readers;
}

void
kith_partial_copy_set_pieces (KithPartialCopy *self, guint64 piece_size, guint count)
{
  g_return_if_fail (KITH_IS_PARTIAL_COPY (self));
  g_return_if_fail (self->pieces == NULL && piece_size > 0 && count > 0);
  self->pieces = kith_piece_map_new (count);
  self->piece_size = piece_size;
}

void
kith_partial_copy_add_piece (KithPartialCopy *self, guint index)
{
  g_return_if_fail (KITH_IS_PARTIAL_COPY (self));
  if (self->pieces == NULL || index >= kith_piece_map_get_count (self->pieces) ||
      self->state != KITH_PARTIAL_COPY_GROWING || kith_piece_map_get (self->pieces, index))
    return;
  kith_piece_map_set (self->pieces, index);
  kith_partial_copy_changed (self);
}

gboolean
kith_partial_copy_has_pieces (KithPartialCopy *self)
{
  g_return_val_if_fail (KITH_IS_PARTIAL_COPY (self), FALSE);
  return self->pieces != NULL;
}

gboolean
kith_partial_copy_has_range (KithPartialCopy *self, guint64 start, guint64 end)
{
  guint first, last;

  g_return_val_if_fail (KITH_IS_PARTIAL_COPY (self), FALSE);
  if (start >= end)
    return start == end && end <= kith_partial_copy_get_readable (self);
  if (self->state != KITH_PARTIAL_COPY_GROWING || self->pieces == NULL)
    return end <= kith_partial_copy_get_readable (self);
  if (self->total == 0 || end > self->total)
    return FALSE;
  first = (guint) (start / self->piece_size);
  last = (guint) ((end - 1) / self->piece_size);
  if (last >= kith_piece_map_get_count (self->pieces))
    return FALSE;
  for (guint i = first; i <= last; i++)
    if (!kith_piece_map_get (self->pieces, i))
      return FALSE;
  return TRUE;
}

gchar *
kith_partial_copy_get_piece_map (KithPartialCopy *self)
{
  g_autoptr (KithPieceMap) all = NULL;

  g_return_val_if_fail (KITH_IS_PARTIAL_COPY (self), NULL);
  if (self->pieces == NULL || self->state == KITH_PARTIAL_COPY_FAILED)
    return NULL;
  if (self->state == KITH_PARTIAL_COPY_GROWING)
    return kith_piece_map_to_hex (self->pieces);
  all = kith_piece_map_new (kith_piece_map_get_count (self->pieces));
  kith_piece_map_set_all (all);
  return kith_piece_map_to_hex (all);
}
