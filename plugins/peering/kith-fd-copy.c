/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fd-copy.c — a finished file copied into the caller's descriptor (kith-fd-copy.h) */
#include "kith-fd-copy.h"

#ifdef G_OS_UNIX
#include <errno.h>
#include <gio/gfiledescriptorbased.h>
#include <poll.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/sendfile.h>
#endif
#endif

#define KITH_FD_COPY_CHUNK (1024 * 1024)
/* how often a wait for a full destination looks at the cancellable */
#define KITH_FD_COPY_WAIT_MS 250

#ifdef G_OS_UNIX
/* Waits until @fd takes more bytes; FALSE once cancelled. */
static gboolean
kith_fd_copy_wait (gint fd, GCancellable *cancellable, GError **error)
{
  struct pollfd pfd = { .fd = fd, .events = POLLOUT };

  for (;;) {
    gint n;
    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      return FALSE;
    n = poll (&pfd, 1, KITH_FD_COPY_WAIT_MS);
    if (n > 0)
      return TRUE; /* writable, or an error the next write reports */
    if (n < 0 && errno != EINTR) {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "%s", g_strerror (errno));
      return FALSE;
    }
  }
}

/* Writes all of @data to @fd; FALSE with @error. */
static gboolean
kith_fd_copy_write_all (gint fd, const guint8 *data, gsize len, GCancellable *cancellable, GError **error)
{
  while (len > 0) {
    gssize n = write (fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!kith_fd_copy_wait (fd, cancellable, error))
        return FALSE;
      continue;
    }
    if (n < 0) {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "%s", g_strerror (errno));
      return FALSE;
    }
    data += n;
    len -= (gsize) n;
  }
  return TRUE;
}

/* Through user memory, where sendfile(2) cannot go. */
static gssize
kith_fd_copy_buffered (gint in, gint out, GCancellable *cancellable, GError **error)
{
  g_autofree guint8 *buffer = g_malloc (KITH_FD_COPY_CHUNK);
  gssize total = 0;

  for (;;) {
    gssize n;
    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      return -1;
    n = read (in, buffer, KITH_FD_COPY_CHUNK);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "%s", g_strerror (errno));
      return -1;
    }
    if (n == 0)
      return total;
    if (!kith_fd_copy_write_all (out, buffer, (gsize) n, cancellable, error))
      return -1;
    total += n;
  }
}

static gssize
kith_fd_copy_run (gint in, gint out, GCancellable *cancellable, GError **error)
{
#ifdef __linux__
  gssize total = 0;

  for (;;) {
    gssize n;
    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      return -1;
    n = sendfile (out, in, NULL, KITH_FD_COPY_CHUNK);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!kith_fd_copy_wait (out, cancellable, error))
        return -1;
      continue;
    }
    /* a destination sendfile cannot write to: the rest through memory */
    if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
      gssize rest = kith_fd_copy_buffered (in, out, cancellable, error);
      return rest < 0 ? -1 : total + rest;
    }
    if (n < 0) {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "%s", g_strerror (errno));
      return -1;
    }
    if (n == 0)
      return total;
    total += n;
  }
#else
  return kith_fd_copy_buffered (in, out, cancellable, error);
#endif
}
#endif

typedef struct {
  GInputStream *source;
  GOutputStream *destination;
} KithFdCopy;

static void
kith_fd_copy_free (KithFdCopy *copy)
{
  g_object_unref (copy->source);
  g_object_unref (copy->destination);
  g_free (copy);
}

static void
kith_fd_copy_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;
  gssize n = -1;
#ifdef G_OS_UNIX
  KithFdCopy *copy = task_data;

  n = kith_fd_copy_run (g_file_descriptor_based_get_fd (G_FILE_DESCRIPTOR_BASED (copy->source)),
                        g_file_descriptor_based_get_fd (G_FILE_DESCRIPTOR_BASED (copy->destination)), cancellable,
                        &error);
  /* closed before the caller hears of the end, as GIO's splice does */
  g_input_stream_close (copy->source, NULL, NULL);
#else
  g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "not a Unix system");
#endif
  if (n < 0)
    g_task_return_error (task, error);
  else
    g_task_return_int (task, n);
}

static void
kith_fd_copy_spliced (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  gssize n = g_output_stream_splice_finish (G_OUTPUT_STREAM (source), result, &error);

  if (n < 0)
    g_task_return_error (task, error);
  else
    g_task_return_int (task, n);
}

void
kith_fd_copy_async (GInputStream *source, GOutputStream *destination, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, kith_fd_copy_async);
#ifdef G_OS_UNIX
  if (G_IS_FILE_DESCRIPTOR_BASED (source) && G_IS_FILE_DESCRIPTOR_BASED (destination)) {
    KithFdCopy *copy = g_new0 (KithFdCopy, 1);
    copy->source = g_object_ref (source);
    copy->destination = g_object_ref (destination);
    g_task_set_task_data (task, copy, (GDestroyNotify) kith_fd_copy_free);
    g_task_run_in_thread (task, kith_fd_copy_thread);
    g_object_unref (task);
    return;
  }
#endif
  g_output_stream_splice_async (destination, source, G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE, G_PRIORITY_DEFAULT,
                                cancellable, kith_fd_copy_spliced, task);
}

gssize
kith_fd_copy_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), -1);
  return g_task_propagate_int (G_TASK (result), error);
}
