/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-file-compare.c — whether a byte range of one file is the same in another */
#include "kith-file-compare.h"

#include <gio/gio.h>
#include <string.h>

#define KITH_FILE_COMPARE_CHUNK (64 * 1024)

static GInputStream *
kith_file_compare_open (const gchar *path, guint64 start, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = g_file_read (file, NULL, error);

  if (in == NULL || !g_seekable_seek (G_SEEKABLE (in), (goffset) start, G_SEEK_SET, NULL, error))
    return NULL;
  return G_INPUT_STREAM (g_steal_pointer (&in));
}

gboolean
kith_file_compare_range (const gchar *path_a, const gchar *path_b, guint64 start, guint64 end, GError **error)
{
  g_autoptr (GInputStream) a = kith_file_compare_open (path_a, start, error);
  g_autoptr (GInputStream) b = a != NULL ? kith_file_compare_open (path_b, start, error) : NULL;
  g_autofree guint8 *buf_a = g_malloc (KITH_FILE_COMPARE_CHUNK);
  g_autofree guint8 *buf_b = g_malloc (KITH_FILE_COMPARE_CHUNK);

  if (b == NULL)
    return FALSE;
  for (guint64 at = start; at < end;) {
    gsize want = (gsize) MIN (end - at, KITH_FILE_COMPARE_CHUNK), got_a = 0, got_b = 0;

    if (!g_input_stream_read_all (a, buf_a, want, &got_a, NULL, error) ||
        !g_input_stream_read_all (b, buf_b, want, &got_b, NULL, error))
      return FALSE;
    if (got_a != want || got_b != want) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT, "a file ends before byte %" G_GUINT64_FORMAT,
                   end);
      return FALSE;
    }
    if (memcmp (buf_a, buf_b, want) != 0)
      return FALSE;
    at += want;
  }
  return TRUE;
}
