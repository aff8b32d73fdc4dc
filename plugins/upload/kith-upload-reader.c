/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload-reader.c — a bounded asynchronous read of a whole fd */
#include "kith-upload-reader.h"

#include "kith-deadline.h"
#include "kith-upload-error.h"

#ifdef G_OS_UNIX
#include <gio/gunixinputstream.h>
#include <unistd.h>
#endif

#define KITH_UPLOAD_READ_CHUNK (64 * 1024)

typedef struct {
  GInputStream *in;
  GByteArray *buf;
  guint64 max_size, timeout_ms;
  KithDeadline *deadline; /* the caller's cancellable and the timeout both cancel it */
} KithUploadRead;

static void
kith_upload_read_free (KithUploadRead *read)
{
  kith_deadline_free (read->deadline);
  g_clear_object (&read->in);
  g_byte_array_unref (read->buf);
  g_free (read);
}

static void
kith_upload_read_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  KithUploadRead *read = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr (GBytes) chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), res, &error);

  if (chunk == NULL && kith_deadline_has_expired (read->deadline)) {
    g_clear_error (&error);
    g_task_return_new_error (task, KITH_UPLOAD_ERROR, KITH_UPLOAD_ERROR_FAILED,
                             "the report was not read within [upload] read-timeout (%" G_GUINT64_FORMAT
                             " ms): its writer never finished; nothing was added",
                             read->timeout_ms);
    return;
  }
  if (chunk == NULL) {
    g_task_return_error (task, error);
    return;
  }
  if (g_bytes_get_size (chunk) == 0) {
    g_task_return_pointer (task, g_bytes_new (read->buf->data, read->buf->len), (GDestroyNotify) g_bytes_unref);
    return;
  }
  if (read->buf->len + (guint64) g_bytes_get_size (chunk) > read->max_size) {
    g_task_return_new_error (task, KITH_UPLOAD_ERROR, KITH_UPLOAD_ERROR_TOO_LARGE,
                             "the report is larger than [upload] max-size (%" G_GUINT64_FORMAT " bytes)",
                             read->max_size);
    return;
  }
  g_byte_array_append (read->buf, g_bytes_get_data (chunk, NULL), (guint) g_bytes_get_size (chunk));
  g_input_stream_read_bytes_async (read->in, KITH_UPLOAD_READ_CHUNK, G_PRIORITY_DEFAULT,
                                   kith_deadline_get_cancellable (read->deadline), kith_upload_read_cb,
                                   g_steal_pointer (&task));
}

void
kith_upload_reader_read_async (gint fd, guint64 max_size, guint64 timeout_ms, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, NULL, callback, user_data);
#ifdef G_OS_UNIX
  KithUploadRead *read = g_new0 (KithUploadRead, 1);

  g_task_set_source_tag (task, kith_upload_reader_read_async);
  read->in = g_unix_input_stream_new (fd, TRUE);
  read->buf = g_byte_array_new ();
  read->max_size = max_size;
  read->timeout_ms = timeout_ms;
  read->deadline = kith_deadline_new (cancellable, (guint) MIN (timeout_ms, G_MAXUINT));
  g_task_set_task_data (task, read, (GDestroyNotify) kith_upload_read_free);
  g_input_stream_read_bytes_async (read->in, KITH_UPLOAD_READ_CHUNK, G_PRIORITY_DEFAULT,
                                   kith_deadline_get_cancellable (read->deadline), kith_upload_read_cb,
                                   g_steal_pointer (&task));
#else
  g_task_return_new_error (task, KITH_UPLOAD_ERROR, KITH_UPLOAD_ERROR_UNSUPPORTED,
                           "reports by fd need a POSIX system");
#endif
}

GBytes *
kith_upload_reader_read_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
