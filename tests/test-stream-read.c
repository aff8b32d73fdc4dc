/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-stream-read.c — the bounded reads of the agent's SDK: kith_stream_read_all_async()
 * over memory streams (the maximum exactly, one byte over, nothing, cancelled) and
 * kith_http_request_send_async() against a server on loopback whose answer never ends. */
#include <check.h>

#include "kith-http-request.h"
#include "kith-stream-read.h"
#include "kith-test-suite.h"

#include <string.h>

#define KIB 1024
/* what the endless answer sends at most, so that an unbounded client fails instead of hanging */
#define ENDLESS_CAP (16 * 1024 * KIB)

static void
result_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GAsyncResult **slot = user_data;
  *slot = g_object_ref (res);
}

static GAsyncResult *
await_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static GBytes *
pattern (gsize size)
{
  guint8 *data = g_malloc (size + 1);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 7 + i / 251);
  return g_bytes_new_take (data, size);
}

/* Reads @stream bounded by @max; the result, or NULL with *@error. */
static GBytes *
read_all (GInputStream *stream, guint64 max, GCancellable *cancellable, GError **error)
{
  GAsyncResult *res = NULL;
  GBytes *bytes;

  kith_stream_read_all_async (stream, max, cancellable, result_cb, &res);
  bytes = kith_stream_read_all_finish (await_result (&res), error);
  g_object_unref (res);
  return bytes;
}

START_TEST (test_read_exactly_max)
{
  /* several chunks and a part of one */
  g_autoptr (GBytes) content = pattern (200 * KIB + 3);
  g_autoptr (GInputStream) stream = g_memory_input_stream_new_from_bytes (content);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) got = read_all (stream, g_bytes_get_size (content), NULL, &error);

  ck_assert_msg (got != NULL, "%s", error != NULL ? error->message : "");
  ck_assert (g_bytes_equal (got, content));
}
END_TEST

START_TEST (test_read_one_byte_over)
{
  g_autoptr (GBytes) content = pattern (200 * KIB + 3);
  g_autoptr (GInputStream) stream = g_memory_input_stream_new_from_bytes (content);
  g_autoptr (GError) error = NULL;
  guint64 max = g_bytes_get_size (content) - 1;
  g_autoptr (GBytes) got = read_all (stream, max, NULL, &error);

  ck_assert (got == NULL);
  ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE));
  ck_assert_str_eq (error->message, "more than 204802 bytes");
  /* it stopped one byte past the maximum, not at the end of the stream */
  ck_assert_int_eq (g_seekable_tell (G_SEEKABLE (stream)), (goffset) max + 1);
}
END_TEST

START_TEST (test_read_stops_early)
{
  g_autoptr (GBytes) content = pattern (1024 * KIB);
  g_autoptr (GInputStream) stream = g_memory_input_stream_new_from_bytes (content);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) got = read_all (stream, 10, NULL, &error);

  ck_assert (got == NULL);
  ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE));
  ck_assert_int_eq (g_seekable_tell (G_SEEKABLE (stream)), 11);
}
END_TEST

START_TEST (test_read_empty)
{
  g_autoptr (GInputStream) empty = g_memory_input_stream_new ();
  g_autoptr (GInputStream) one = g_memory_input_stream_new_from_data ("x", 1, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) got = read_all (empty, 0, NULL, &error);
  g_autoptr (GBytes) none = NULL;

  ck_assert (got != NULL);
  ck_assert_uint_eq (g_bytes_get_size (got), 0);
  none = read_all (one, 0, NULL, &error);
  ck_assert (none == NULL);
  ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE));
}
END_TEST

START_TEST (test_read_cancelled)
{
  g_autoptr (GBytes) content = pattern (100 * KIB);
  g_autoptr (GInputStream) stream = g_memory_input_stream_new_from_bytes (content);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) got = NULL;

  g_cancellable_cancel (cancellable);
  got = read_all (stream, G_MAXUINT, cancellable, &error);
  ck_assert (got == NULL);
  ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
}
END_TEST

/* ---- over HTTP ---- */

typedef struct {
  guint64 written;
} Endless;

static void
endless_wrote_chunk_cb (SoupServerMessage *msg, gpointer user_data)
{
  Endless *endless = user_data;
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  g_autoptr (GBytes) chunk = pattern (64 * KIB);

  if (endless->written >= ENDLESS_CAP) {
    soup_message_body_complete (body);
    return;
  }
  endless->written += g_bytes_get_size (chunk);
  soup_message_body_append_bytes (body, chunk);
}

static void
handler_cb (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
            gpointer user_data)
{
  if (g_strcmp0 (path, "/small") == 0) {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "not here\n", 9);
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_encoding (soup_server_message_get_response_headers (msg), SOUP_ENCODING_CHUNKED);
  g_signal_connect (msg, "wrote-chunk", G_CALLBACK (endless_wrote_chunk_cb), user_data);
  endless_wrote_chunk_cb (msg, user_data);
}

/* A server on 127.0.0.1; its base URL in *@base (caller frees). */
static SoupServer *
server_new (Endless *endless, gchar **base)
{
  SoupServer *server = soup_server_new (NULL, NULL);
  g_autoptr (GError) error = NULL;
  GSList *uris;

  soup_server_add_handler (server, NULL, handler_cb, endless, NULL);
  ck_assert_msg (soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error), "%s",
                 error != NULL ? error->message : "");
  uris = soup_server_get_uris (server);
  ck_assert (uris != NULL);
  *base = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return server;
}

static GBytes *
request (const gchar *url, guint64 max, guint *status, GError **error)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
  GAsyncResult *res = NULL;
  GBytes *body;

  kith_http_request_send_async (session, msg, max, NULL, result_cb, &res);
  body = kith_http_request_send_finish (await_result (&res), error);
  ck_assert (g_async_result_get_source_object (res) == G_OBJECT (msg));
  g_object_unref (msg); /* the ref get_source_object took */
  g_object_unref (res);
  *status = soup_message_get_status (msg);
  return body;
}

START_TEST (test_request_endless_answer)
{
  Endless endless = { 0 };
  g_autofree gchar *base = NULL;
  g_autoptr (SoupServer) server = server_new (&endless, &base);
  g_autofree gchar *url = g_strconcat (base, "endless", NULL);
  g_autoptr (GError) error = NULL;
  guint status = 0;
  g_autoptr (GBytes) body = request (url, 1024 * KIB, &status, &error);

  ck_assert (SOUP_IS_SERVER (server));
  ck_assert (body == NULL);
  ck_assert_msg (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE), "%s",
                 error != NULL ? error->message : "a body");
  ck_assert_uint_eq (status, SOUP_STATUS_OK);
  ck_assert_uint_lt (endless.written, ENDLESS_CAP);
}
END_TEST

START_TEST (test_request_small_answer)
{
  Endless endless = { 0 };
  g_autofree gchar *base = NULL;
  g_autoptr (SoupServer) server = server_new (&endless, &base);
  g_autofree gchar *url = g_strconcat (base, "small", NULL);
  g_autoptr (GError) error = NULL;
  guint status = 0;
  g_autoptr (GBytes) body = request (url, 9, &status, &error);

  ck_assert (SOUP_IS_SERVER (server));
  ck_assert_msg (body != NULL, "%s", error != NULL ? error->message : "");
  /* whatever the status, the body is read */
  ck_assert_uint_eq (status, SOUP_STATUS_NOT_FOUND);
  ck_assert_uint_eq (g_bytes_get_size (body), 9);
  ck_assert (memcmp (g_bytes_get_data (body, NULL), "not here\n", 9) == 0);
}
END_TEST

int
main (void)
{
  Suite *suite = suite_create ("stream-read");
  TCase *tc = tcase_create ("bounded");

  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_read_exactly_max);
  tcase_add_test (tc, test_read_one_byte_over);
  tcase_add_test (tc, test_read_stops_early);
  tcase_add_test (tc, test_read_empty);
  tcase_add_test (tc, test_read_cancelled);
  tcase_add_test (tc, test_request_endless_answer);
  tcase_add_test (tc, test_request_small_answer);
  suite_add_tcase (suite, tc);
  return kith_test_run_suite (suite);
}
