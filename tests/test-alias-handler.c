/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-alias-handler.c — KithAliasHandler over real HTTP on 127.0.0.1 */
#include <check.h>

#include "kith-test-suite.h"
#include "kith-test-util.h"
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "kith-alias-handler.h"
#include "kith-alias-store.h"
#include "kith-http-range.h"

#define WAIT_TIMEOUT_S 20
#define FILE_SIZE (3 * 1024 * 1024 + 123) /* several socket buffers: partial writes */

static gchar *tmp_dir;
static KithAliasStore *store;
static KithAliasHandler *handler;
static SoupServer *server;
static SoupSession *session;
static GBytes *file_data;
static gchar *file_sha;
static guint16 port;

/* Iterates the main context until *@done, failing the test after a bound. */
static void
run_until (gboolean *done)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (WAIT_TIMEOUT_S, kith_test_timeout_cb, &timed_out);

  while (!*done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  ck_assert_msg (!timed_out, "timed out waiting");
  g_source_remove (id);
}

static void
setup (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr (KithAliasWriter) writer = NULL;
  g_autoptr (KithAliasEntry) entry = NULL;
  g_autoslist (GUri) uris = NULL;
  guint8 *buf = g_malloc (FILE_SIZE);

  for (gsize i = 0; i < FILE_SIZE; i++)
    buf[i] = (guint8) ((i * 131 + (i >> 10)) & 0xff);
  file_data = g_bytes_new_take (buf, FILE_SIZE);
  file_sha = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, file_data);

  tmp_dir = g_dir_make_tmp ("kith-alias-handler-XXXXXX", NULL);
  store = kith_alias_store_new (tmp_dir, 0, 0, &error);
  ck_assert_ptr_nonnull (store);
  writer = kith_alias_store_begin (store, "http://origin.example/dat/file.cab", file_sha, 0, &error);
  ck_assert_ptr_nonnull (writer);
  ck_assert (kith_alias_writer_write (writer, buf, FILE_SIZE, &error));
  entry = kith_alias_writer_commit (writer, &error);
  ck_assert_msg (entry != NULL, "%s", error != NULL ? error->message : "");

  handler = kith_alias_handler_new (store);
  server = soup_server_new (NULL, NULL);
  kith_alias_handler_add_to_server (handler, server);
  ck_assert_msg (soup_server_listen (server, addr, 0, &error), "%s",
                 error != NULL ? error->message : "");
  uris = soup_server_get_uris (server);
  ck_assert_ptr_nonnull (uris);
  port = (guint16) g_uri_get_port (uris->data);
  session = soup_session_new ();
}

static void
teardown (void)
{
  g_clear_object (&session);
  soup_server_disconnect (server);
  g_clear_object (&server);
  g_clear_object (&handler);
  g_clear_object (&store);
  g_clear_pointer (&file_data, g_bytes_unref);
  g_clear_pointer (&file_sha, g_free);
  kith_test_rm_rf (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

typedef struct {
  gboolean done;
  GBytes *body;
  GError *error;
} Reply;

static void
send_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Reply *reply = user_data;
  reply->body = soup_session_send_and_read_finish (SOUP_SESSION (source), res, &reply->error);
  reply->done = TRUE;
}

/* Sends @method @path with up to two headers (NULL names are skipped); body in *@body. */
static SoupMessage *
request2 (const gchar *method, const gchar *path, const gchar *h1, const gchar *v1,
          const gchar *h2, const gchar *v2, GBytes **body)
{
  g_autofree gchar *url = g_strdup_printf ("http://127.0.0.1:%u%s", port, path);
  SoupMessage *msg = soup_message_new (method, url);
  SoupMessageHeaders *hdrs;
  Reply reply = { 0 };

  ck_assert_ptr_nonnull (msg);
  hdrs = soup_message_get_request_headers (msg);
  if (h1 != NULL)
    soup_message_headers_replace (hdrs, h1, v1);
  if (h2 != NULL)
    soup_message_headers_replace (hdrs, h2, v2);
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, send_cb, &reply);
  run_until (&reply.done);
  ck_assert_msg (reply.error == NULL, "%s", reply.error != NULL ? reply.error->message : "");
  *body = reply.body;
  return msg;
}

static SoupMessage *
request (const gchar *method, const gchar *path, const gchar *header, const gchar *value,
         GBytes **body)
{
  return request2 (method, path, header, value, NULL, NULL, body);
}

static const gchar *
resp_header (SoupMessage *msg, const gchar *name)
{
  return soup_message_headers_get_one (soup_message_get_response_headers (msg), name);
}

static gchar *
alias_path (void)
{
  return g_strdup_printf ("/alias/%s", file_sha);
}

/* Asserts @body equals file bytes [start, start+len). */
static void
assert_slice (GBytes *body, gsize start, gsize len)
{
  ck_assert_uint_eq (g_bytes_get_size (body), len);
  ck_assert_mem_eq (g_bytes_get_data (body, NULL),
                    (const guint8 *) g_bytes_get_data (file_data, NULL) + start, len);
}

static void
wait_bytes_served (guint64 expected)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (WAIT_TIMEOUT_S, kith_test_timeout_cb, &timed_out);

  while (kith_alias_handler_get_bytes_served (handler) < expected && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (id);
  ck_assert_uint_eq (kith_alias_handler_get_bytes_served (handler), expected);
}

/* Loop tests run with sendfile (0) and with the memory-mapped libsoup body (1). */
static void
use_mode (gint mode)
{
  kith_alias_handler_set_use_sendfile (handler, mode == 0);
}

START_TEST (test_get_full)
{
  g_autofree gchar *path = alias_path ();
  g_autofree gchar *etag = g_strdup_printf ("\"%s\"", file_sha);
  g_autofree gchar *len = g_strdup_printf ("%u", FILE_SIZE);
  g_autoptr (GBytes) body = NULL;
  g_autoptr (SoupMessage) msg = NULL;

  use_mode (_i);
  msg = request ("GET", path, NULL, NULL, &body);

  ck_assert_uint_eq (soup_message_get_status (msg), 200);
  assert_slice (body, 0, FILE_SIZE);
  ck_assert_str_eq (resp_header (msg, "Content-Length"), len);
  ck_assert_str_eq (resp_header (msg, "ETag"), etag);
  ck_assert_str_eq (resp_header (msg, "Content-Type"), "application/octet-stream");
  ck_assert_str_eq (resp_header (msg, "Accept-Ranges"), "bytes");
#ifdef __linux__
  /* the sendfile path takes the connection over and closes it afterwards */
  ck_assert_str_eq (resp_header (msg, "Connection") != NULL ? resp_header (msg, "Connection") : "",
                    _i == 0 ? "close" : "");
#endif
  wait_bytes_served (FILE_SIZE);
  ck_assert_uint_eq (kith_alias_handler_get_hits (handler), 1);

  /* and again, on a new or reused connection */
  {
    g_autoptr (GBytes) again = NULL;
    g_autoptr (SoupMessage) msg2 = request ("GET", path, NULL, NULL, &again);
    ck_assert_uint_eq (soup_message_get_status (msg2), 200);
    assert_slice (again, 0, FILE_SIZE);
    wait_bytes_served (2 * (guint64) FILE_SIZE);
  }
}
END_TEST

START_TEST (test_get_with_name)
{
  g_autofree gchar *path = kith_alias_handler_build_path (file_sha,
                                                          "http://origin.example/dat/file.cab?x=1");
  g_autofree gchar *expected = g_strdup_printf ("/alias/%s/file.cab", file_sha);
  g_autofree gchar *bare = kith_alias_handler_build_path (file_sha, "http://origin.example/");
  g_autofree gchar *bare_expected = alias_path ();
  g_autoptr (GBytes) body = NULL;
  g_autoptr (SoupMessage) msg = NULL;

  ck_assert_str_eq (path, expected);
  ck_assert_str_eq (bare, bare_expected);
  msg = request ("GET", path, NULL, NULL, &body);
  ck_assert_uint_eq (soup_message_get_status (msg), 200);
  assert_slice (body, 0, FILE_SIZE);
}
END_TEST

START_TEST (test_head)
{
  g_autofree gchar *path = alias_path ();
  g_autofree gchar *len = g_strdup_printf ("%u", FILE_SIZE);
  g_autoptr (GBytes) body = NULL;
  g_autoptr (SoupMessage) msg = request ("HEAD", path, NULL, NULL, &body);

  ck_assert_uint_eq (soup_message_get_status (msg), 200);
  ck_assert_str_eq (resp_header (msg, "Content-Length"), len);
  ck_assert_uint_eq (g_bytes_get_size (body), 0);
  ck_assert_uint_eq (kith_alias_handler_get_bytes_served (handler), 0);
}
END_TEST

START_TEST (test_ranges)
{
  g_autofree gchar *path = alias_path ();
  g_autofree gchar *cr_first = g_strdup_printf ("bytes 0-9/%u", FILE_SIZE);
  g_autofree gchar *cr_last = g_strdup_printf ("bytes %u-%u/%u", FILE_SIZE - 10, FILE_SIZE - 1,
                                               FILE_SIZE);
  g_autofree gchar *cr_open = g_strdup_printf ("bytes 100-%u/%u", FILE_SIZE - 1, FILE_SIZE);
  g_autoptr (GBytes) b1 = NULL;
  g_autoptr (GBytes) b2 = NULL;
  g_autoptr (GBytes) b3 = NULL;
  g_autoptr (GBytes) b4 = NULL;
  g_autoptr (SoupMessage) first = NULL;
  g_autoptr (SoupMessage) last = NULL;
  g_autoptr (SoupMessage) open = NULL;
  g_autoptr (SoupMessage) clamp = NULL;

  use_mode (_i);
  first = request ("GET", path, "Range", "bytes=0-9", &b1);
  last = request ("GET", path, "Range", "bytes=-10", &b2);
  open = request ("GET", path, "Range", "bytes=100-", &b3);
  clamp = request ("GET", path, "Range", "bytes=5-99999999999", &b4);

  ck_assert_uint_eq (soup_message_get_status (first), 206);
  ck_assert_str_eq (resp_header (first, "Content-Range"), cr_first);
  ck_assert_str_eq (resp_header (first, "Content-Length"), "10");
  assert_slice (b1, 0, 10);

  ck_assert_uint_eq (soup_message_get_status (last), 206);
  ck_assert_str_eq (resp_header (last, "Content-Range"), cr_last);
  assert_slice (b2, FILE_SIZE - 10, 10);

  ck_assert_uint_eq (soup_message_get_status (open), 206);
  ck_assert_str_eq (resp_header (open, "Content-Range"), cr_open);
  assert_slice (b3, 100, FILE_SIZE - 100);

  ck_assert_uint_eq (soup_message_get_status (clamp), 206);
  assert_slice (b4, 5, FILE_SIZE - 5);
  wait_bytes_served (10 + 10 + (FILE_SIZE - 100) + (FILE_SIZE - 5));
}
END_TEST

START_TEST (test_range_unsatisfiable_or_ignored)
{
  g_autofree gchar *path = alias_path ();
  g_autofree gchar *beyond = g_strdup_printf ("bytes=%u-", FILE_SIZE);
  g_autofree gchar *star = g_strdup_printf ("bytes */%u", FILE_SIZE);
  g_autoptr (GBytes) b1 = NULL;
  g_autoptr (GBytes) b2 = NULL;
  g_autoptr (GBytes) b3 = NULL;
  g_autoptr (GBytes) b4 = NULL;
  g_autoptr (SoupMessage) past = request ("GET", path, "Range", beyond, &b1);
  g_autoptr (SoupMessage) zero = request ("GET", path, "Range", "bytes=-0", &b2);
  g_autoptr (SoupMessage) multi = request ("GET", path, "Range", "bytes=0-1,5-6", &b3);
  g_autoptr (SoupMessage) stale = request2 ("GET", path, "Range", "bytes=0-9", "If-Range",
                                            "\"other\"", &b4);

  ck_assert_uint_eq (soup_message_get_status (past), 416);
  ck_assert_str_eq (resp_header (past, "Content-Range"), star);
  ck_assert_uint_eq (g_bytes_get_size (b1), 0);
  ck_assert_uint_eq (soup_message_get_status (zero), 416);
  /* several ranges: we answer with the whole file, which RFC 9110 allows */
  ck_assert_uint_eq (soup_message_get_status (multi), 200);
  assert_slice (b3, 0, FILE_SIZE);
  /* If-Range with another validator: the range is ignored */
  ck_assert_uint_eq (soup_message_get_status (stale), 200);
  assert_slice (b4, 0, FILE_SIZE);
}
END_TEST

START_TEST (test_etag_304)
{
  g_autofree gchar *path = alias_path ();
  g_autofree gchar *etag = g_strdup_printf ("\"%s\"", file_sha);
  g_autofree gchar *list = g_strdup_printf ("\"nope\", W/%s", etag);
  g_autoptr (GBytes) b1 = NULL;
  g_autoptr (GBytes) b2 = NULL;
  g_autoptr (GBytes) b3 = NULL;
  g_autoptr (SoupMessage) same = request ("GET", path, "If-None-Match", etag, &b1);
  g_autoptr (SoupMessage) in_list = request ("GET", path, "If-None-Match", list, &b2);
  g_autoptr (SoupMessage) other = request ("GET", path, "If-None-Match", "\"nope\"", &b3);

  ck_assert_uint_eq (soup_message_get_status (same), 304);
  ck_assert_str_eq (resp_header (same, "ETag"), etag);
  ck_assert_uint_eq (g_bytes_get_size (b1), 0);
  ck_assert_uint_eq (soup_message_get_status (in_list), 304);
  ck_assert_uint_eq (soup_message_get_status (other), 200);
  assert_slice (b3, 0, FILE_SIZE);
}
END_TEST

START_TEST (test_not_found)
{
  const gchar *paths[] = {
    "/alias/0000000000000000000000000000000000000000000000000000000000000000",
    "/alias/",
    "/alias",
    "/alias/nothex",
    NULL,
  };
  g_autofree gchar *upper = g_ascii_strup (file_sha, -1);
  g_autofree gchar *upper_path = g_strdup_printf ("/alias/%s", upper);
  g_autofree gchar *deep = g_strdup_printf ("/alias/%s/a/b", file_sha);
  g_autofree gchar *longer = g_strdup_printf ("/alias/%s0", file_sha);
  const gchar *built[] = { upper_path, deep, longer, NULL };

  for (guint i = 0; paths[i] != NULL; i++) {
    g_autoptr (GBytes) body = NULL;
    g_autoptr (SoupMessage) msg = request ("GET", paths[i], NULL, NULL, &body);
    ck_assert_msg (soup_message_get_status (msg) == 404, "%s gave %u", paths[i],
                   soup_message_get_status (msg));
  }
  for (guint i = 0; built[i] != NULL; i++) {
    g_autoptr (GBytes) body = NULL;
    g_autoptr (SoupMessage) msg = request ("GET", built[i], NULL, NULL, &body);
    ck_assert_msg (soup_message_get_status (msg) == 404, "%s gave %u", built[i],
                   soup_message_get_status (msg));
  }
  {
    g_autofree gchar *path = alias_path ();
    g_autoptr (GBytes) body = NULL;
    g_autoptr (SoupMessage) msg = request ("POST", path, NULL, NULL, &body);
    ck_assert_uint_eq (soup_message_get_status (msg), 405);
  }
  /* a removed alias disappears from the server at once */
  ck_assert (kith_alias_store_remove (store, file_sha, NULL));
  {
    g_autofree gchar *path = alias_path ();
    g_autoptr (GBytes) body = NULL;
    g_autoptr (SoupMessage) msg = request ("GET", path, NULL, NULL, &body);
    ck_assert_uint_eq (soup_message_get_status (msg), 404);
  }
}
END_TEST

typedef struct {
  gboolean done;
  GString *text;
} RawReply;

static guint8 raw_buf[4096];

static void
raw_read_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  RawReply *reply = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), res, NULL);

  if (n <= 0) {
    reply->done = TRUE;
    return;
  }
  g_string_append_len (reply->text, (const gchar *) raw_buf, n);
  g_input_stream_read_async (G_INPUT_STREAM (source), raw_buf, sizeof (raw_buf),
                             G_PRIORITY_DEFAULT, NULL, raw_read_cb, reply);
}

/* Sends @target verbatim (no client-side normalisation) and returns the whole response. */
static gchar *
raw_get (const gchar *target)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnection) conn = NULL;
  g_autofree gchar *req = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                           "Connection: close\r\n\r\n",
                                           target);
  RawReply reply = { FALSE, g_string_new (NULL) };

  conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  ck_assert_msg (conn != NULL, "%s", error != NULL ? error->message : "");
  ck_assert (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), req,
                                        strlen (req), NULL, NULL, &error));
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (conn)), raw_buf,
                             sizeof (raw_buf), G_PRIORITY_DEFAULT, NULL, raw_read_cb, &reply);
  run_until (&reply.done);
  return g_string_free (reply.text, FALSE);
}

START_TEST (test_traversal)
{
  g_autofree gchar *sha_escape = g_strdup_printf ("/alias/%s/../../../etc/passwd", file_sha);
  g_autofree gchar *sha_encoded = g_strdup_printf ("/alias/%s/%%2e%%2e/%%2e%%2e/etc/passwd",
                                                   file_sha);
  /* libsoup itself refuses an encoded '/' in a path with 400, before any handler */
  const struct {
    const gchar *target;
    const gchar *status;
  } cases[] = {
    { "/alias/../../etc/passwd", "HTTP/1.1 404" },
    { "/alias/%2e%2e/%2e%2e/etc/passwd", "HTTP/1.1 404" },
    { "/alias/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "HTTP/1.1 400" },
    { "/alias/..%2f..%2fetc%2fpasswd", "HTTP/1.1 400" },
    { "/alias/index.json", "HTTP/1.1 404" },
    { sha_escape, "HTTP/1.1 404" },
    { sha_encoded, "HTTP/1.1 404" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *resp = raw_get (cases[i].target);
    ck_assert_msg (g_str_has_prefix (resp, cases[i].status), "%s answered: %.40s",
                   cases[i].target, resp);
    ck_assert (strstr (resp, "root:") == NULL);
  }
  ck_assert_uint_eq (kith_alias_handler_get_hits (handler), 0);
}
END_TEST

static void
served_cb (KithAliasHandler *h, const gchar *sha256, guint64 bytes, gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

typedef struct {
  gboolean done;
  gssize n;
} FirstRead;

static void
first_read_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  FirstRead *first = user_data;
  first->n = g_input_stream_read_finish (G_INPUT_STREAM (source), res, NULL);
  first->done = TRUE;
}

START_TEST (test_client_hangs_up)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *req = g_strdup_printf ("GET /alias/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                                           file_sha);
  g_autofree gchar *path = alias_path ();
  g_autoptr (GBytes) body = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  gboolean served = FALSE;
  FirstRead first = { FALSE, 0 };
  gchar buf[4096];

  use_mode (_i);
  g_signal_connect (handler, "served", G_CALLBACK (served_cb), &served);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  ck_assert_ptr_nonnull (conn);
  ck_assert (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), req,
                                        strlen (req), NULL, NULL, &error));
  /* read a little of the response (the server runs on this thread), then hang up mid-body */
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (conn)), buf,
                             sizeof (buf) - 1, G_PRIORITY_DEFAULT, NULL, first_read_cb, &first);
  run_until (&first.done);
  ck_assert_int_gt (first.n, 0);
  buf[first.n] = '\0';
  ck_assert (g_str_has_prefix (buf, "HTTP/1.1 200"));
  ck_assert (g_io_stream_close (G_IO_STREAM (conn), NULL, &error));
  run_until (&served);
  ck_assert_uint_le (kith_alias_handler_get_bytes_served (handler), FILE_SIZE);

  /* the server is unharmed */
  msg = request ("GET", path, NULL, NULL, &body);
  ck_assert_uint_eq (soup_message_get_status (msg), 200);
  assert_slice (body, 0, FILE_SIZE);
}
END_TEST

START_TEST (test_restart_serves_after_verification)
{
  g_autofree gchar *path = alias_path ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) before = NULL;
  g_autoptr (GBytes) after = NULL;
  g_autoptr (SoupMessage) early = NULL;
  g_autoptr (SoupMessage) late = NULL;
  gboolean timed_out = FALSE;
  guint id;

  /* the node restarts: a new store on the same directory, a new handler */
  soup_server_remove_handler (server, KITH_ALIAS_HANDLER_PREFIX);
  g_clear_object (&handler);
  g_clear_object (&store);
  store = kith_alias_store_new (tmp_dir, 0, 0, &error);
  ck_assert_ptr_nonnull (store);
  handler = kith_alias_handler_new (store);
  kith_alias_handler_add_to_server (handler, server);

  /* nothing is served before the startup re-hash has confirmed the file */
  ck_assert (kith_alias_store_is_verifying (store));
  ck_assert_ptr_null (kith_alias_store_lookup_sha256 (store, file_sha));
  /* the worker may finish while the request runs the main loop: check if it did not */
  early = request ("HEAD", path, NULL, NULL, &before);
  if (kith_alias_store_is_verifying (store))
    ck_assert_uint_eq (soup_message_get_status (early), 404);

  id = g_timeout_add_seconds (WAIT_TIMEOUT_S, kith_test_timeout_cb, &timed_out);
  while (kith_alias_store_is_verifying (store) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  ck_assert (!timed_out);
  g_source_remove (id);

  late = request ("GET", path, NULL, NULL, &after);
  ck_assert_uint_eq (soup_message_get_status (late), 200);
  assert_slice (after, 0, FILE_SIZE);
}
END_TEST

/* The parser itself, without a server: every form, and what it must refuse. */
START_TEST (test_http_range_parse)
{
  static const struct {
    const gchar *value;
    guint64 size;
    KithHttpRangeResult result;
    guint64 start, end;
  } cases[] = {
    { "bytes=0-9", 100, KITH_HTTP_RANGE_OK, 0, 9 },
    { "bytes=90-", 100, KITH_HTTP_RANGE_OK, 90, 99 },
    { "bytes=-10", 100, KITH_HTTP_RANGE_OK, 90, 99 },
    { "bytes=-1000", 100, KITH_HTTP_RANGE_OK, 0, 99 },
    { "bytes=5-99999999999", 100, KITH_HTTP_RANGE_OK, 5, 99 },
    { "bytes=100-", 100, KITH_HTTP_RANGE_UNSATISFIABLE, 0, 0 },
    { "bytes=-0", 100, KITH_HTTP_RANGE_UNSATISFIABLE, 0, 0 },
    { "bytes=-5", 0, KITH_HTTP_RANGE_UNSATISFIABLE, 0, 0 },
    { "bytes=0-1,5-6", 100, KITH_HTTP_RANGE_NONE, 0, 0 },
    { "bytes=9-0", 100, KITH_HTTP_RANGE_NONE, 0, 0 },
    { "bytes=-", 100, KITH_HTTP_RANGE_NONE, 0, 0 },
    { "bytes=+1-2", 100, KITH_HTTP_RANGE_NONE, 0, 0 },
    { "bytes=99999999999999999999-", 100, KITH_HTTP_RANGE_NONE, 0, 0 },
    { "items=0-9", 100, KITH_HTTP_RANGE_NONE, 0, 0 },
    { NULL, 100, KITH_HTTP_RANGE_NONE, 0, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    guint64 start = 0, end = 0;
    KithHttpRangeResult result = kith_http_range_parse (cases[i].value, cases[i].size, &start, &end);
    ck_assert_msg (result == cases[i].result, "%s: %d", cases[i].value, result);
    if (result == KITH_HTTP_RANGE_OK) {
      ck_assert_uint_eq (start, cases[i].start);
      ck_assert_uint_eq (end, cases[i].end);
    }
  }
}
END_TEST

static Suite *
alias_handler_suite (void)
{
  Suite *s = suite_create ("alias-handler");
  TCase *tc = tcase_create ("http");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_loop_test (tc, test_get_full, 0, 2);
  tcase_add_test (tc, test_get_with_name);
  tcase_add_test (tc, test_head);
  tcase_add_loop_test (tc, test_ranges, 0, 2);
  tcase_add_test (tc, test_range_unsatisfiable_or_ignored);
  tcase_add_test (tc, test_http_range_parse);
  tcase_add_test (tc, test_etag_304);
  tcase_add_test (tc, test_not_found);
  tcase_add_test (tc, test_traversal);
  tcase_add_loop_test (tc, test_client_hangs_up, 0, 2);
  tcase_add_test (tc, test_restart_serves_after_verification);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return kith_test_run_suite (alias_handler_suite ());
}
