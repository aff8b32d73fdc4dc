/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-endless.c — an HTTP server whose answers never end */
#include "kith-test-endless.h"

#include <check.h>
#include <string.h>

#include "kith-test-thread.h"

#define KITH_TEST_ENDLESS_HEAD_MAX 16384
#define KITH_TEST_ENDLESS_CHUNK 65536
#define KITH_TEST_ENDLESS_TRICKLE_US (100 * 1000)
/* a reader that takes nothing for this long is given up on: the process must end */
#define KITH_TEST_ENDLESS_STUCK_S 10

struct _KithTestEndless {
  KithTestThread *thread;
  gboolean trickle;
  gint stopping; /* atomic */
  GMutex mutex;
  GCond idle;
  guint running; /* answers in progress */
  KithTestEndlessFunc func;
  gpointer user_data;
};

static gboolean
kith_test_endless_stopping (KithTestEndless *self)
{
  return g_atomic_int_get (&self->stopping) != 0;
}

/* The request head, read a byte at a time so that nothing of the body is taken with it. */
static GString *
kith_test_endless_read_head (GInputStream *in)
{
  GString *head = g_string_new (NULL);
  gchar c;

  while (head->len < KITH_TEST_ENDLESS_HEAD_MAX && !g_str_has_suffix (head->str, "\r\n\r\n")) {
    if (g_input_stream_read (in, &c, 1, NULL, NULL) != 1) {
      g_string_free (head, TRUE);
      return NULL;
    }
    g_string_append_c (head, c);
  }
  return head;
}

/* Reads the request body its Content-Length announces; keeps its first 64 KiB. */
static GBytes *
kith_test_endless_read_body (GInputStream *in, const gchar *head)
{
  g_autofree gchar *lower = g_ascii_strdown (head, -1);
  const gchar *field = strstr (lower, "\r\ncontent-length:");
  guint64 left = field != NULL ? g_ascii_strtoull (field + strlen ("\r\ncontent-length:"), NULL, 10) : 0;
  g_autofree guint8 *buffer = g_malloc (KITH_TEST_ENDLESS_CHUNK);
  g_autoptr (GByteArray) kept = g_byte_array_new ();

  while (left > 0) {
    gssize n = g_input_stream_read (in, buffer, MIN (left, KITH_TEST_ENDLESS_CHUNK), NULL, NULL);
    if (n <= 0)
      return NULL;
    if (kept->len < KITH_TEST_ENDLESS_CHUNK)
      g_byte_array_append (kept, buffer, (guint) MIN ((gsize) n, KITH_TEST_ENDLESS_CHUNK - kept->len));
    left -= (guint64) n;
  }
  return g_byte_array_free_to_bytes (g_steal_pointer (&kept));
}

/* A tunnel that never carries anything: open until the client closes it, or we stop. */
static void
kith_test_endless_hold (KithTestEndless *self, GSocket *socket, GInputStream *in, GOutputStream *out)
{
  static const gchar answer[] = "HTTP/1.1 200 Connection established\r\n\r\n";
  g_autoptr (GError) error = NULL;
  gchar buffer[256];
  gssize n;

  if (!g_output_stream_write_all (out, answer, strlen (answer), NULL, NULL, NULL))
    return;
  g_socket_set_timeout (socket, 1);
  while (!kith_test_endless_stopping (self)) {
    n = g_input_stream_read (in, buffer, sizeof buffer, NULL, &error);
    if (n == 0 || (n < 0 && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)))
      return;
    g_clear_error (&error);
  }
}

static void
kith_test_endless_answer (KithTestEndless *self, GOutputStream *out)
{
  static const gchar head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n";
  gsize size = self->trickle ? 1 : KITH_TEST_ENDLESS_CHUNK;
  g_autofree gchar *chunk = NULL;
  gsize prefix, length;
  guint64 sent = 0;

  if (!g_output_stream_write_all (out, head, strlen (head), NULL, NULL, NULL))
    return;
  /* one chunk of @size '{' bytes, framed: the same bytes every time */
  chunk = g_malloc (size + 32);
  prefix = (gsize) g_snprintf (chunk, 32, "%" G_GSIZE_MODIFIER "x\r\n", size);
  memset (chunk + prefix, '{', size);
  memcpy (chunk + prefix + size, "\r\n", 2);
  length = prefix + size + 2;
  while (!kith_test_endless_stopping (self)) {
    g_autoptr (GError) error = NULL;
    if (!g_output_stream_write_all (out, chunk, length, NULL, NULL, &error)) {
      /* a reader that stopped reading without closing is not one that cut the answer */
      g_print ("%s %" G_GUINT64_FORMAT "\n", g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ? "stuck" : "cut",
               sent);
      return;
    }
    sent += size;
    if (self->trickle)
      g_usleep (KITH_TEST_ENDLESS_TRICKLE_US);
  }
}

static gboolean
kith_test_endless_run_cb (GThreadedSocketService *service, GSocketConnection *connection, GObject *source,
                          gpointer user_data)
{
  KithTestEndless *self = user_data;
  GSocket *socket = g_socket_connection_get_socket (connection);
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  GBytes *body = NULL;
  GString *head;

  g_mutex_lock (&self->mutex);
  self->running++;
  g_mutex_unlock (&self->mutex);
  g_socket_set_timeout (socket, KITH_TEST_ENDLESS_STUCK_S);
  head = kith_test_endless_read_head (in);
  if (head != NULL && g_str_has_prefix (head->str, "CONNECT "))
    kith_test_endless_hold (self, socket, in, out);
  else if (head != NULL && (body = kith_test_endless_read_body (in, head->str)) != NULL) {
    g_autofree gchar *answer = self->func != NULL ? self->func (head->str, body, self->user_data) : NULL;
    if (answer != NULL)
      g_output_stream_write_all (out, answer, strlen (answer), NULL, NULL, NULL);
    else
      kith_test_endless_answer (self, out);
    g_bytes_unref (body);
  }
  if (head != NULL)
    g_string_free (head, TRUE);
  g_mutex_lock (&self->mutex);
  self->running--;
  g_cond_signal (&self->idle);
  g_mutex_unlock (&self->mutex);
  return TRUE;
}

KithTestEndless *
kith_test_endless_new (gboolean trickle)
{
  KithTestEndless *self = g_new0 (KithTestEndless, 1);

  g_mutex_init (&self->mutex);
  g_cond_init (&self->idle);
  self->trickle = trickle;
  self->thread = kith_test_thread_new_service ("endless", 8, G_CALLBACK (kith_test_endless_run_cb), self);
  return self;
}

void
kith_test_endless_set_func (KithTestEndless *self, KithTestEndlessFunc func, gpointer user_data)
{
  self->func = func;
  self->user_data = user_data;
}

guint16
kith_test_endless_get_port (KithTestEndless *self)
{
  return kith_test_thread_get_port (self->thread);
}

void
kith_test_endless_free (KithTestEndless *self)
{
  g_atomic_int_set (&self->stopping, 1);
  kith_test_thread_free (self->thread);
  /* the workers use @self to their end */
  g_mutex_lock (&self->mutex);
  while (self->running > 0)
    g_cond_wait (&self->idle, &self->mutex);
  g_mutex_unlock (&self->mutex);
  g_cond_clear (&self->idle);
  g_mutex_clear (&self->mutex);
  g_free (self);
}

guint64
kith_test_endless_wait_cut (GSubprocess *child)
{
  g_autoptr (GDataInputStream) out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (child));
  g_autofree gchar *line = NULL;

  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (out), FALSE);
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, NULL);
  ck_assert_msg (line != NULL && g_str_has_prefix (line, "cut "), "the hostile process said \"%s\", not that its answer was cut",
                 line != NULL ? line : "(nothing)");
  return g_ascii_strtoull (line + strlen ("cut "), NULL, 10);
}
