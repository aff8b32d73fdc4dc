/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-stream-read.c — a whole stream read into memory, never past a maximum */
#include "kith-stream-read.h"

#define KITH_STREAM_READ_CHUNK (64 * 1024)

typedef struct {
  GInputStream *stream; /* a ref */
  GByteArray *buf;
  guint64 max_size;
} KithStreamRead;

static void
kith_stream_read_free (KithStreamRead *read)
{
  g_object_unref (read->stream);
  g_byte_array_unref (read->buf);
  g_free (read);
}

static void kith_stream_read_cb (GObject *source, GAsyncResult *res, gpointer user_data);

/* Asks for the next chunk: never more than one byte past the maximum. */
static void
kith_stream_read_next (GTask *task)
{
  KithStreamRead *read = g_task_get_task_data (task);
  guint64 left = read->max_size - read->buf->len;

  g_input_stream_read_bytes_async (read->stream, (gsize) MIN (left + 1, KITH_STREAM_READ_CHUNK),
                                   g_task_get_priority (task), g_task_get_cancellable (task),
                                   kith_stream_read_cb, task);
}

static void
kith_stream_read_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  KithStreamRead *read = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr (GBytes) chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), res, &error);

  if (chunk == NULL) {
    g_task_return_error (task, error);
    return;
  }
  if (g_bytes_get_size (chunk) == 0) {
    g_task_return_pointer (task, g_byte_array_free_to_bytes (g_byte_array_ref (read->buf)),
                           (GDestroyNotify) g_bytes_unref);
    return;
  }
  if (read->buf->len + (guint64) g_bytes_get_size (chunk) > read->max_size) {
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                             "more than %" G_GUINT64_FORMAT " bytes", read->max_size);
    return;
  }
  g_byte_array_append (read->buf, g_bytes_get_data (chunk, NULL), (guint) g_bytes_get_size (chunk));
  kith_stream_read_next (g_steal_pointer (&task));
}

void
kith_stream_read_all_async (GInputStream *stream, guint64 max_size, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;
  KithStreamRead *read;

  g_return_if_fail (G_IS_INPUT_STREAM (stream) && max_size <= G_MAXUINT);
  task = g_task_new (NULL, cancellable, callback, user_data);
  read = g_new0 (KithStreamRead, 1);
  g_task_set_source_tag (task, kith_stream_read_all_async);
  read->stream = g_object_ref (stream);
  read->buf = g_byte_array_new ();
  read->max_size = max_size;
  g_task_set_task_data (task, read, (GDestroyNotify) kith_stream_read_free);
  kith_stream_read_next (task);
}

GBytes *
kith_stream_read_all_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kith_stream_read_all_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
