/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-http-request.c — send, then the answer read whole through kith_stream_read_all_async() */
#include "kith-http-request.h"

#include "kith-stream-read.h"

static void
kith_http_request_read_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  GBytes *body = kith_stream_read_all_finish (res, &error);

  if (body == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, body, (GDestroyNotify) g_bytes_unref);
}

static void
kith_http_request_sent_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  g_autoptr (GInputStream) stream = soup_session_send_finish (SOUP_SESSION (source), res, &error);
  guint64 *max_size = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);

  if (stream == NULL) {
    g_task_return_error (task, error);
    return;
  }
  kith_stream_read_all_async (stream, *max_size, cancellable, kith_http_request_read_cb,
                              g_steal_pointer (&task));
}

void
kith_http_request_send_async (SoupSession *session, SoupMessage *msg, guint64 max_size,
                              GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;

  g_return_if_fail (SOUP_IS_SESSION (session) && SOUP_IS_MESSAGE (msg) && max_size <= G_MAXUINT);
  task = g_task_new (msg, cancellable, callback, user_data);
  g_task_set_source_tag (task, kith_http_request_send_async);
  g_task_set_task_data (task, g_memdup2 (&max_size, sizeof max_size), g_free);
  soup_session_send_async (session, msg, G_PRIORITY_DEFAULT, cancellable, kith_http_request_sent_cb, task);
}

GBytes *
kith_http_request_send_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kith_http_request_send_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
