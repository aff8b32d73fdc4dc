/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-body-spool.c — a request body written to a file as it arrives */
#include "kith-body-spool.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#ifdef G_OS_UNIX
#include <unistd.h>
#endif

#define KITH_BODY_SPOOL_KEY "kith-body-spool"

struct _KithBodySpool {
  KithHttp *http; /* not a ref: it serves @msg, so it outlives it; NULL for none */
  guint64 max_size;
  gchar *partial; /* DIR/.partial-XXXXXX until taken or kept */
  gint fd;
  guint64 written;
  gboolean failed;
};

static void
kith_body_spool_free (KithBodySpool *self)
{
  if (self->fd >= 0)
    g_close (self->fd, NULL);
  if (self->partial != NULL)
    g_unlink (self->partial);
  g_free (self->partial);
  g_free (self);
}

static void
kith_body_spool_fail (KithBodySpool *self, SoupServerMessage *msg, guint status)
{
  self->failed = TRUE;
  if (self->http != NULL)
    kith_http_refuse_body (self->http, msg, status);
}

static void
kith_body_spool_got_chunk_cb (SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
  KithBodySpool *self = user_data;
  gsize length = 0;
  const guint8 *data = g_bytes_get_data (chunk, &length);

  if (self->failed)
    return;
  if (self->written + length > self->max_size) {
    kith_body_spool_fail (self, msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE);
    return;
  }
  while (length > 0) {
    gssize n = write (self->fd, data, length);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      g_warning ("cannot write %s: %s", self->partial, g_strerror (errno));
      kith_body_spool_fail (self, msg, SOUP_STATUS_INSUFFICIENT_STORAGE);
      return;
    }
    data += n;
    length -= (gsize) n;
    self->written += (guint64) n;
  }
}

KithBodySpool *
kith_body_spool_begin (SoupServerMessage *msg, const gchar *dir, guint64 max_size, KithHttp *http, GError **error)
{
  KithBodySpool *self = g_new0 (KithBodySpool, 1);
  int saved;

  self->http = http;
  self->max_size = max_size;
  self->partial = g_build_filename (dir, ".partial-XXXXXX", NULL);
  self->fd = g_mkdir_with_parents (dir, 0755) == 0 ? g_mkstemp_full (self->partial, O_RDWR | O_CLOEXEC, 0600) : -1;
  if (self->fd < 0) {
    saved = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "cannot create %s: %s", self->partial,
                 g_strerror (saved));
    g_clear_pointer (&self->partial, g_free);
    kith_body_spool_free (self);
    return NULL;
  }
  g_object_set_data_full (G_OBJECT (msg), KITH_BODY_SPOOL_KEY, self, (GDestroyNotify) kith_body_spool_free);
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (kith_body_spool_got_chunk_cb), self);
  return self;
}

KithBodySpool *
kith_body_spool_get (SoupServerMessage *msg)
{
  return g_object_get_data (G_OBJECT (msg), KITH_BODY_SPOOL_KEY);
}

gboolean
kith_body_spool_has_failed (KithBodySpool *self)
{
  return self->failed;
}

guint64
kith_body_spool_get_size (KithBodySpool *self)
{
  return self->written;
}

GBytes *
kith_body_spool_take_bytes (KithBodySpool *self, GError **error)
{
  g_autoptr (GMappedFile) mapped = NULL;

  g_return_val_if_fail (self->partial != NULL && self->fd >= 0, NULL);
  mapped = g_mapped_file_new_from_fd (self->fd, FALSE, error);
  if (mapped == NULL)
    return NULL;
  g_unlink (self->partial);
  g_clear_pointer (&self->partial, g_free);
  return g_mapped_file_get_bytes (mapped);
}

gboolean
kith_body_spool_keep (KithBodySpool *self, const gchar *path, GError **error)
{
  gboolean closed;
  int saved;

  g_return_val_if_fail (self->partial != NULL && self->fd >= 0, FALSE);
#ifdef G_OS_UNIX
  if (fsync (self->fd) != 0)
    g_debug ("fsync %s: %s", self->partial, g_strerror (errno));
#endif
  closed = g_close (self->fd, error);
  self->fd = -1;
  if (!closed)
    return FALSE;
  if (g_rename (self->partial, path) != 0) {
    saved = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "cannot rename %s to %s: %s",
                 self->partial, path, g_strerror (saved));
    return FALSE;
  }
  g_clear_pointer (&self->partial, g_free); /* it is the caller's file now */
  return TRUE;
}
