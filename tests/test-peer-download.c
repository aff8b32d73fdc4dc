/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-peer-download.c — one GET of a byte range from a peer over real HTTP on 127.0.0.1:
 * a range is read whole and exactly, though the socket is told to wake its reader only for
 * tens of KiB at a time — also when the source sends it in small slices and keeps the
 * connection open after it (no end of stream to wake the reader for the last bytes) — and
 * the connection, kept, serves the next range */
#include <check.h>

#include "kith-test-suite.h"
#include "kith-test-util.h"

#include <gio/gio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "kith-peer-download.h"

#define TOTAL (300 * 1024 + 777)
#define WAIT_TIMEOUT_S 20
/* the source sends this much every DRIBBLE_MS */
#define DRIBBLE (10 * 1024)
#define DRIBBLE_MS 2

static GBytes *content;
static SoupServer *server;
static SoupSession *session;
static gchar *url;
static GHashTable *sockets; /* the server's connections seen */

/* One answer in flight: its body goes out a slice at a time, a few ms apart, so that the
 * reader gets it in many reads, the last ones shorter than the threshold. */
typedef struct {
  SoupServerMessage *msg;
  goffset next, end; /* the next byte to send, one past the last */
} Dribble;

static gboolean
dribble_cb (gpointer user_data)
{
  Dribble *dribble = user_data;
  SoupMessageBody *body = soup_server_message_get_response_body (dribble->msg);
  goffset n = MIN ((goffset) DRIBBLE, dribble->end - dribble->next);

  soup_message_body_append_bytes (body, g_bytes_new_from_bytes (content, (gsize) dribble->next, (gsize) n));
  dribble->next += n;
  if (dribble->next == dribble->end)
    soup_message_body_complete (body);
  soup_server_message_unpause (dribble->msg);
  if (dribble->next < dribble->end)
    return G_SOURCE_CONTINUE;
  g_object_unref (dribble->msg);
  g_free (dribble);
  return G_SOURCE_REMOVE;
}

/* Answers the Range asked for, 206, and keeps the connection (libsoup's default). */
static void
serve_range (SoupServer *srv, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  SoupMessageHeaders *hdrs = soup_server_message_get_response_headers (msg);
  SoupRange *ranges = NULL;
  int count = 0;
  Dribble *dribble;

  g_hash_table_add (sockets, soup_server_message_get_socket (msg));
  if (!soup_message_headers_get_ranges (soup_server_message_get_request_headers (msg), TOTAL, &ranges, &count) ||
      count != 1) {
    soup_server_message_set_status (msg, SOUP_STATUS_BAD_REQUEST, NULL);
    return;
  }
  dribble = g_new0 (Dribble, 1);
  dribble->msg = g_object_ref (msg);
  dribble->next = ranges[0].start;
  dribble->end = ranges[0].end + 1;
  soup_message_headers_free_ranges (soup_server_message_get_request_headers (msg), ranges);
  soup_message_headers_set_content_range (hdrs, dribble->next, dribble->end - 1, TOTAL);
  soup_message_headers_set_content_length (hdrs, dribble->end - dribble->next);
  soup_server_message_set_status (msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
  soup_message_body_set_accumulate (soup_server_message_get_response_body (msg), FALSE);
  soup_server_message_pause (msg);
  g_timeout_add (DRIBBLE_MS, dribble_cb, dribble);
}

static void
setup (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  guint8 *data = g_malloc (TOTAL);
  GSList *uris;

  for (gsize i = 0; i < TOTAL; i++)
    data[i] = (guint8) (i * 31 + i / 251);
  content = g_bytes_new_take (data, TOTAL);
  sockets = g_hash_table_new (NULL, NULL);
  server = soup_server_new (NULL, NULL);
  soup_server_add_handler (server, "/f", serve_range, NULL, NULL);
  g_assert_true (soup_server_listen (server, address, 0, &error));
  uris = soup_server_get_uris (server);
  url = g_strdup_printf ("http://127.0.0.1:%u/f", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  session = soup_session_new ();
}

static void
teardown (void)
{
  g_clear_object (&session);
  soup_server_disconnect (server);
  g_clear_object (&server);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_pointer (&sockets, g_hash_table_unref);
  g_clear_pointer (&content, g_bytes_unref);
  g_clear_pointer (&url, g_free);
}

typedef struct {
  GByteArray *bytes;
  guint64 first;
  GError *error;
  gboolean done;
} Got;

static gboolean
got_write (KithPeerDownload *download, const guint8 *data, gsize len, guint64 offset, gpointer user_data,
           GError **error)
{
  Got *got = user_data;

  ck_assert_uint_eq (offset, got->first + got->bytes->len);
  g_byte_array_append (got->bytes, data, (guint) len);
  return TRUE;
}

static void
got_finished (KithPeerDownload *download, const GError *error, gpointer user_data)
{
  Got *got = user_data;

  got->error = error != NULL ? g_error_copy (error) : NULL;
  got->done = TRUE;
}

static const KithPeerDownloadFuncs got_funcs = { .write = got_write, .finished = got_finished };

/* Downloads bytes [@first, @first + @length) and checks them against the content. */
static void
assert_range (guint64 first, guint64 length)
{
  Got got = { g_byte_array_new (), first, NULL, FALSE };
  KithPeerDownload *download = kith_peer_download_new (session, url, "peer", NULL, &got_funcs, &got);
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (WAIT_TIMEOUT_S, kith_test_timeout_cb, &timed_out);

  kith_peer_download_set_range (download, first, length);
  kith_peer_download_start (download);
  while (!got.done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  ck_assert_msg (!timed_out, "the range %" G_GUINT64_FORMAT "+%" G_GUINT64_FORMAT " did not end", first, length);
  g_source_remove (id);
  g_assert_no_error (got.error);
  ck_assert_uint_eq (got.bytes->len, length);
  ck_assert (memcmp (got.bytes->data, (const guint8 *) g_bytes_get_data (content, NULL) + first, length) == 0);
  kith_peer_download_free (download);
  g_byte_array_unref (got.bytes);
}

/* Ranges whose ends fall anywhere within the wake-up threshold, the whole file in one, and
 * a range of a few bytes after them: all read whole over one kept connection. */
START_TEST (test_ranges_on_a_kept_connection)
{
  assert_range (1000, 200 * 1024 + 333);
  assert_range (0, TOTAL);
  assert_range (TOTAL - 40000, 40000);
  assert_range (17, 10);
  ck_assert_uint_eq (g_hash_table_size (sockets), 1);
}
END_TEST

static Suite *
peer_download_suite (void)
{
  Suite *s = suite_create ("peer-download");
  TCase *tc = tcase_create ("range");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_ranges_on_a_kept_connection);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return kith_test_run_suite (peer_download_suite ());
}
