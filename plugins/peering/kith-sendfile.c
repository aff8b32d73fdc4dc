/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-sendfile.c — sends a response body with sendfile(2) on libsoup's socket */
#include "kith-sendfile.h"

#include <glib/gstdio.h>

#ifdef __linux__
#include <errno.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

/* sendfile moves at most ~2 GiB per call */
#define SENDFILE_MAX_CHUNK (G_GUINT64_CONSTANT (1) << 30)
#define JOB_KEY "kith-sendfile-job"

typedef struct {
  gint fd;
  guint64 offset;
  guint64 remaining;
  guint64 sent;
  GIOStream *stream; /* the stolen connection, kept open until the end */
  GSocket *socket;
  GSource *source;
  KithSendfileDoneFunc done;
  gpointer user_data;
  GDestroyNotify destroy;
} SendfileJob;

static void
job_finish (SendfileJob *job)
{
  if (job->source != NULL) {
    g_source_destroy (job->source);
    g_source_unref (job->source);
  }
  if (job->stream != NULL) {
    g_io_stream_close (job->stream, NULL, NULL);
    g_object_unref (job->stream);
  }
  g_clear_object (&job->socket);
  g_close (job->fd, NULL);
  if (job->done != NULL)
    job->done (job->sent, job->remaining == 0, job->user_data);
  if (job->destroy != NULL)
    job->destroy (job->user_data);
  g_free (job);
}

typedef enum { PUMP_WOULD_BLOCK, PUMP_DONE, PUMP_FAILED } PumpResult;

/* Hands the kernel as much of the range as the socket takes. */
static PumpResult
job_pump (SendfileJob *job)
{
  gint sock = g_socket_get_fd (job->socket);

  while (job->remaining > 0) {
    off_t off = (off_t) job->offset;
    ssize_t n = sendfile (sock, job->fd, &off, MIN (job->remaining, SENDFILE_MAX_CHUNK));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return PUMP_WOULD_BLOCK;
    if (n <= 0) {
      g_debug ("sendfile stopped after %" G_GUINT64_FORMAT " bytes: %s", job->sent,
               n < 0 ? g_strerror (errno) : "file shrank");
      return PUMP_FAILED;
    }
    job->offset += (guint64) n;
    job->remaining -= (guint64) n;
    job->sent += (guint64) n;
  }
  return PUMP_DONE;
}

static gboolean job_writable_cb (GSocket *socket, GIOCondition condition, gpointer user_data);

/* Pumps, then either ends the job or waits for the socket to drain. */
static void
job_run (SendfileJob *job)
{
  if (job_pump (job) != PUMP_WOULD_BLOCK) {
    job_finish (job);
    return;
  }
  if (job->source == NULL) {
    /* the socket's own timeout, if any, bounds a peer that stops reading */
    job->source = g_socket_create_source (job->socket, G_IO_OUT, NULL);
    g_source_set_callback (job->source, G_SOURCE_FUNC (job_writable_cb), job, NULL);
    g_source_attach (job->source, g_main_context_get_thread_default ());
  }
}

static gboolean
job_writable_cb (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  SendfileJob *job = user_data;

  if ((condition & G_IO_OUT) == 0) { /* timeout, error or hang-up */
    job_finish (job);
    return G_SOURCE_REMOVE;
  }
  if (job_pump (job) == PUMP_WOULD_BLOCK)
    return G_SOURCE_CONTINUE;
  job_finish (job);
  return G_SOURCE_REMOVE;
}

/* libsoup has written the head: take the connection and send the body ourselves. */
static void
wrote_headers_cb (SoupServerMessage *msg, gpointer user_data)
{
  SendfileJob *job = g_object_steal_data (G_OBJECT (msg), JOB_KEY);
  GSocket *socket;

  g_signal_handlers_disconnect_by_func (msg, wrote_headers_cb, user_data);
  if (job == NULL)
    return;
  socket = soup_server_message_get_socket (msg);
  job->socket = socket != NULL ? g_object_ref (socket) : NULL;
  job->stream = soup_server_message_steal_connection (msg); /* may drop @msg */
  if (job->stream == NULL || job->socket == NULL) {
    job_finish (job);
    return;
  }
  job_run (job);
}

/* Opens @path and checks it is @expected_size bytes; -1 otherwise. */
static gint
open_checked (const gchar *path, guint64 expected_size)
{
  struct stat st;
  gint fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  if (fstat (fd, &st) != 0 || (guint64) st.st_size != expected_size) {
    g_close (fd, NULL);
    return -1;
  }
  return fd;
}

gboolean
kith_sendfile_respond_fd (SoupServer *server, SoupServerMessage *msg, gint fd, guint64 offset,
                          guint64 length, KithSendfileDoneFunc done, gpointer user_data,
                          GDestroyNotify destroy)
{
  SendfileJob *job;

  g_return_val_if_fail (SOUP_IS_SERVER_MESSAGE (msg), FALSE);
  g_return_val_if_fail (fd >= 0, FALSE);
  /* the bytes must go through TLS there, which only libsoup can do */
  if (length == 0 || server == NULL || soup_server_is_https (server) ||
      soup_server_message_get_socket (msg) == NULL) {
    g_close (fd, NULL);
    return FALSE;
  }

  job = g_new0 (SendfileJob, 1);
  job->fd = fd;
  job->offset = offset;
  job->remaining = length;
  job->done = done;
  job->user_data = user_data;
  job->destroy = destroy;
  /* if the message dies before its head is written, the job ends with it */
  g_object_set_data_full (G_OBJECT (msg), JOB_KEY, job, (GDestroyNotify) job_finish);
  g_signal_connect (msg, "wrote-headers", G_CALLBACK (wrote_headers_cb), NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                "close");
  return TRUE;
}

gboolean
kith_sendfile_respond (SoupServer *server, SoupServerMessage *msg, const gchar *path,
                       guint64 expected_size, guint64 offset, guint64 length,
                       KithSendfileDoneFunc done, gpointer user_data, GDestroyNotify destroy)
{
  gint fd;

  g_return_val_if_fail (SOUP_IS_SERVER_MESSAGE (msg), FALSE);
  if (offset + length > expected_size || length == 0)
    return FALSE;
  if (server == NULL || soup_server_is_https (server) || soup_server_message_get_socket (msg) == NULL)
    return FALSE;
  fd = open_checked (path, expected_size);
  if (fd < 0)
    return FALSE;
  return kith_sendfile_respond_fd (server, msg, fd, offset, length, done, user_data, destroy);
}

#else /* !__linux__ */

gboolean
kith_sendfile_respond (SoupServer *server, SoupServerMessage *msg, const gchar *path,
                       guint64 expected_size, guint64 offset, guint64 length,
                       KithSendfileDoneFunc done, gpointer user_data, GDestroyNotify destroy)
{
  return FALSE;
}

gboolean
kith_sendfile_respond_fd (SoupServer *server, SoupServerMessage *msg, gint fd, guint64 offset,
                          guint64 length, KithSendfileDoneFunc done, gpointer user_data,
                          GDestroyNotify destroy)
{
  g_close (fd, NULL);
  return FALSE;
}

#endif
