/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload-reader.c — a bounded asynchronous read of a whole fd */
#include "kith-upload-reader.h"

#include "kith-deadline.h"
#include "kith-stream-read.h"
#include "kith-upload-error.h"

#ifdef G_OS_UNIX
#include <gio/gunixinputstream.h>
#include <unistd.h>
#endif

typedef struct {
  guint64 max_size, timeout_ms;
  KithDeadline *deadline; /* the caller's cancellable and the timeout both cancel it */
} KithUploadRead;

static void
kith_upload_read_free (KithUploadRead *read)
{
  kith_deadline_free (read->deadline);
  g_free (read);
}

static void
kith_upload_read_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  KithUploadRead *read = g_task_get_task_data (task);
  GError *error = NULL;
  GBytes *content = kith_stream_read_all_finish (res, &error);

  if (content != NULL) {
    g_task_return_pointer (task, content, (GDestroyNotify) g_bytes_unref);
    return;
  }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE)) {
    g_clear_error (&error);
    g_task_return_new_error (task, KITH_UPLOAD_ERROR, KITH_UPLOAD_ERROR_TOO_LARGE,
                             "the report is larger than [upload] max-size (%" G_GUINT64_FORMAT " bytes)",
                             read->max_size);
    return;
  }
  if (kith_deadline_has_expired (read->deadline)) {
    g_clear_error (&error);
    g_task_return_new_error (task, KITH_UPLOAD_ERROR, KITH_UPLOAD_ERROR_FAILED,
                             "the report was not read within [upload] read-timeout (%" G_GUINT64_FORMAT
                             " ms): its writer never finished; nothing was added",
                             read->timeout_ms);
    return;
  }
  g_task_return_error (task, error);
}

void
kith_upload_reader_read_async (gint fd, guint64 max_size, guint64 timeout_ms, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, NULL, callback, user_data);
#ifdef G_OS_UNIX
  g_autoptr (GInputStream) in = g_unix_input_stream_new (fd, TRUE);
  KithUploadRead *read = g_new0 (KithUploadRead, 1);

  g_task_set_source_tag (task, kith_upload_reader_read_async);
  read->max_size = max_size;
  read->timeout_ms = timeout_ms;
  read->deadline = kith_deadline_new (cancellable, (guint) MIN (timeout_ms, G_MAXUINT));
  g_task_set_task_data (task, read, (GDestroyNotify) kith_upload_read_free);
  kith_stream_read_all_async (in, max_size, kith_deadline_get_cancellable (read->deadline),
                              kith_upload_read_cb, g_steal_pointer (&task));
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
