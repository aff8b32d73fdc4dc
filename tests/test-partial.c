/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-partial.c — partial copies, their table and their handler over real HTTP on
 * 127.0.0.1: bytes reach a reader while the copy grows, the last byte only once it is
 * complete, a failed or stalled copy cuts its readers, ranges, HEAD, the reader cap */
#include <check.h>

#include "kith-test-agent.h"
#include "kith-test-suite.h"
#include "kith-test-util.h"
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "kith-test-partial.h"

#define WAIT_TIMEOUT_MS 20000
#define TOTAL (600 * 1024 + 7) /* more than the reader's buffer */
#define TOKEN "0123456789abcdef0123456789abcdef"

static KithTestPartial *fixture;
static GOutputStream *file_out;
static GBytes *content;

static void
setup_with_stall (guint stall_ms)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GFile) file = NULL;

  fixture = kith_test_partial_new ("partial", stall_ms);
  file = g_file_new_for_path (fixture->file_path);
  file_out = G_OUTPUT_STREAM (g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, &error));
  g_assert_no_error (error);
  content = g_bytes_new_take (g_malloc (TOTAL), TOTAL);
  for (gsize i = 0; i < TOTAL; i++)
    ((guint8 *) g_bytes_get_data (content, NULL))[i] = (guint8) (i * 7 + i / 251);
}

static void
setup (void)
{
  setup_with_stall (5000);
}

static void
teardown (void)
{
  g_clear_object (&file_out);
  g_clear_pointer (&fixture, kith_test_partial_free);
  g_clear_pointer (&content, g_bytes_unref);
}

/* A copy of TOTAL bytes (or of unknown size) in the table, nothing written yet. */
static KithPartialCopy *
copy_new (guint64 total)
{
  g_autoptr (GError) error = NULL;
  KithPartialCopy *copy = kith_partial_copy_new (TOKEN, "http://origin/f", fixture->file_path, total, &error);

  g_assert_no_error (error);
  kith_partial_table_add (fixture->table, copy);
  return copy;
}

/* Appends the next @len bytes of the content to the file and tells the copy. */
static void
copy_write (KithPartialCopy *copy, gsize len)
{
  guint64 at = kith_partial_copy_get_available (copy);

  g_assert_true (g_output_stream_write_all (file_out, (const guint8 *) g_bytes_get_data (content, NULL) + at,
                                            len, NULL, NULL, NULL));
  kith_partial_copy_grow (copy, len);
}

/* ---- a reader over HTTP, in this main context ---- */

typedef struct {
  SoupMessage *msg;
  GInputStream *stream;
  GByteArray *received;
  guint8 buffer[16 * 1024];
  gboolean eof;
  GError *error;
  GCancellable *cancellable;
  gboolean pending;  /* a send or read is in flight */
  gboolean orphaned; /* freed by the test while pending: the callback frees it */
} Reader;

static void reader_destroy (Reader *reader);

static void reader_read_next (Reader *reader);

static void
reader_read_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Reader *reader = user_data;
  g_autoptr (GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);

  reader->pending = FALSE;
  if (reader->orphaned) {
    reader_destroy (reader);
    return;
  }
  if (n > 0) {
    g_byte_array_append (reader->received, reader->buffer, n);
    reader_read_next (reader);
  } else if (n == 0) {
    reader->eof = TRUE;
  } else if (reader->error == NULL) {
    reader->error = g_steal_pointer (&error);
  }
}

static void
reader_read_next (Reader *reader)
{
  reader->pending = TRUE;
  g_input_stream_read_async (reader->stream, reader->buffer, sizeof reader->buffer, G_PRIORITY_DEFAULT,
                             reader->cancellable, reader_read_done, reader);
}

static void
reader_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Reader *reader = user_data;

  g_autoptr (GError) error = NULL;

  reader->stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  reader->pending = FALSE;
  if (reader->orphaned) {
    reader_destroy (reader);
    return;
  }
  if (reader->error == NULL)
    reader->error = g_steal_pointer (&error);
  if (reader->stream != NULL)
    reader_read_next (reader);
}

static Reader *
reader_start (const gchar *method, const gchar *token, const gchar *range)
{
  Reader *reader = g_new0 (Reader, 1);
  g_autofree gchar *url = kith_test_partial_url (fixture, token);

  reader->msg = soup_message_new (method, url);
  reader->received = g_byte_array_new ();
  reader->cancellable = g_cancellable_new ();
  reader->pending = TRUE;
  if (range != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (reader->msg), "Range", range);
  soup_session_send_async (fixture->session, reader->msg, G_PRIORITY_DEFAULT, reader->cancellable, reader_sent,
                           reader);
  return reader;
}

static void
reader_destroy (Reader *reader)
{
  g_clear_object (&reader->cancellable);
  g_clear_object (&reader->stream);
  g_clear_object (&reader->msg);
  g_byte_array_unref (reader->received);
  g_clear_error (&reader->error);
  g_free (reader);
}

/* A reader still reading is cancelled; its callback frees it. */
static void
reader_free (Reader *reader)
{
  if (reader->pending) {
    reader->orphaned = TRUE;
    g_cancellable_cancel (reader->cancellable);
    return;
  }
  reader_destroy (reader);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Reader, reader_free)

static gboolean
reader_ended (gpointer user_data)
{
  Reader *reader = user_data;
  return reader->eof || reader->error != NULL;
}

static guint64 reader_want;

static gboolean
reader_has_wanted (gpointer user_data)
{
  Reader *reader = user_data;
  return reader->received->len >= reader_want || reader_ended (reader);
}

static void
reader_wait_for (Reader *reader, guint64 bytes)
{
  reader_want = bytes;
  ck_assert_msg (kith_test_wait_until (reader_has_wanted, reader, WAIT_TIMEOUT_MS), "timed out waiting");
  ck_assert_msg (!reader_ended (reader), "the answer ended after %u bytes: %s", reader->received->len,
                 reader->error != NULL ? reader->error->message : "end of body");
  ck_assert_uint_eq (reader->received->len, bytes);
}

/* Lets the main context run for @ms: for asserting that something does NOT happen. */
static void
run_for (guint ms)
{
  gboolean done = FALSE;
  guint id = g_timeout_add (ms, kith_test_timeout_cb, &done);

  while (!done)
    g_main_context_iteration (NULL, TRUE);
  (void) id;
}

static void
assert_content (Reader *reader, guint64 offset, guint64 len)
{
  ck_assert_uint_eq (reader->received->len, len);
  ck_assert (memcmp (reader->received->data, (const guint8 *) g_bytes_get_data (content, NULL) + offset, len) == 0);
}

/* ---- tests ---- */

START_TEST (test_bytes_while_growing)
{
  g_autoptr (KithPartialCopy) copy = copy_new (TOTAL);
  g_autoptr (Reader) reader = reader_start ("GET", TOKEN, NULL);

  copy_write (copy, 100 * 1024);
  /* everything written so far: none of it is the file's last byte */
  reader_wait_for (reader, 100 * 1024);
  ck_assert_uint_eq (soup_message_get_status (reader->msg), 200);
  ck_assert_int_eq (soup_message_headers_get_content_length (soup_message_get_response_headers (reader->msg)),
                    TOTAL);
  copy_write (copy, TOTAL - 100 * 1024);
  reader_wait_for (reader, TOTAL - 1);
  /* the last byte waits until the copy is verified and stored */
  run_for (200);
  ck_assert (!reader_ended (reader));
  ck_assert_uint_eq (reader->received->len, TOTAL - 1);
  kith_partial_copy_complete (copy, "0000000000000000000000000000000000000000000000000000000000000000");
  ck_assert_msg (kith_test_wait_until (reader_ended, reader, WAIT_TIMEOUT_MS), "timed out waiting");
  g_assert_no_error (reader->error);
  assert_content (reader, 0, TOTAL);
  ck_assert_uint_eq (kith_partial_copy_get_readers (copy), 0);
  ck_assert_uint_eq (kith_partial_handler_get_bytes_served (fixture->handler), TOTAL);
  ck_assert_uint_eq (fixture->refusals->len, 0);
}
END_TEST

START_TEST (test_failure_cuts)
{
  g_autoptr (KithPartialCopy) copy = copy_new (TOTAL);
  g_autoptr (Reader) reader = reader_start ("GET", TOKEN, NULL);

  copy_write (copy, 50 * 1024);
  reader_wait_for (reader, 50 * 1024);
  kith_partial_copy_fail (copy);
  ck_assert_msg (kith_test_wait_until (reader_ended, reader, WAIT_TIMEOUT_MS), "timed out waiting");
  /* never a clean end: the reader cannot mistake it for the whole file */
  ck_assert_msg (reader->error != NULL, "a failed copy ended cleanly");
  ck_assert_uint_eq (reader->received->len, 50 * 1024);
  ck_assert_uint_eq (fixture->refusals->len, 1);
  ck_assert_str_eq (g_ptr_array_index (fixture->refusals, 0), "failed");
  ck_assert_uint_eq (kith_partial_copy_get_readers (copy), 0);
}
END_TEST

START_TEST (test_stall_cuts)
{
  g_autoptr (KithPartialCopy) copy = NULL;
  g_autoptr (Reader) reader = NULL;
  gint64 started;

  teardown ();
  setup_with_stall (300);
  copy = copy_new (TOTAL);
  reader = reader_start ("GET", TOKEN, NULL);
  copy_write (copy, 10 * 1024);
  reader_wait_for (reader, 10 * 1024);
  started = g_get_monotonic_time ();
  ck_assert_msg (kith_test_wait_until (reader_ended, reader, WAIT_TIMEOUT_MS), "timed out waiting");
  ck_assert_msg (reader->error != NULL, "a stalled copy ended cleanly");
  ck_assert_uint_ge (g_get_monotonic_time () - started, 250 * 1000);
  ck_assert_uint_eq (fixture->refusals->len, 1);
  ck_assert_str_eq (g_ptr_array_index (fixture->refusals, 0), "stall");
}
END_TEST

START_TEST (test_unknown_size_chunked)
{
  g_autoptr (KithPartialCopy) copy = copy_new (0);
  g_autoptr (Reader) reader = reader_start ("GET", TOKEN, "bytes=0-9");
  SoupMessageHeaders *hdrs;

  copy_write (copy, 1000);
  /* of a size not known yet, any byte written may be the file's last: the last is held */
  reader_wait_for (reader, 999);
  hdrs = soup_message_get_response_headers (reader->msg);
  /* no size to resolve a range against: all of it, chunked */
  ck_assert_uint_eq (soup_message_get_status (reader->msg), 200);
  ck_assert_int_eq (soup_message_headers_get_encoding (hdrs), SOUP_ENCODING_CHUNKED);
  /* once the size is known, that byte is not the file's last: it goes out */
  kith_partial_copy_set_total (copy, 5000);
  reader_wait_for (reader, 1000);
  copy_write (copy, 4000);
  reader_wait_for (reader, 4999);
  kith_partial_copy_complete (copy, "0000000000000000000000000000000000000000000000000000000000000000");
  ck_assert_msg (kith_test_wait_until (reader_ended, reader, WAIT_TIMEOUT_MS), "timed out waiting");
  g_assert_no_error (reader->error);
  assert_content (reader, 0, 5000);
}
END_TEST

/* Of a size not known, the cut is all that tells a reader the body is short: a chunked body
 * that ends cleanly (its zero-length chunk, or a close where a chunk ended) is taken for the
 * whole file by any HTTP client. */
static void
assert_unknown_size_cut (KithPartialCopy *copy, Reader *reader, const gchar *reason)
{
  ck_assert_msg (kith_test_wait_until (reader_ended, reader, WAIT_TIMEOUT_MS), "timed out waiting");
  ck_assert_msg (reader->error != NULL, "a copy of unknown size cut (%s) ended cleanly after %u bytes", reason,
                 reader->received->len);
  /* a reset: libsoup reads a close at a chunk's end as the end of the body */
  ck_assert_msg (g_error_matches (reader->error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED), "%s: %s", reason,
                 reader->error->message);
  ck_assert_int_eq (soup_message_headers_get_encoding (soup_message_get_response_headers (reader->msg)),
                    SOUP_ENCODING_CHUNKED);
  assert_content (reader, 0, 50 * 1024 - 1);
  ck_assert_uint_eq (fixture->refusals->len, 1);
  ck_assert_str_eq (g_ptr_array_index (fixture->refusals, 0), reason);
  ck_assert_uint_eq (kith_partial_copy_get_readers (copy), 0);
}

START_TEST (test_unknown_size_failure_cuts)
{
  g_autoptr (KithPartialCopy) copy = copy_new (0);
  g_autoptr (Reader) reader = reader_start ("GET", TOKEN, NULL);

  copy_write (copy, 50 * 1024);
  reader_wait_for (reader, 50 * 1024 - 1);
  kith_partial_copy_fail (copy);
  assert_unknown_size_cut (copy, reader, "failed");
}
END_TEST

START_TEST (test_unknown_size_stall_cuts)
{
  g_autoptr (KithPartialCopy) copy = NULL;
  g_autoptr (Reader) reader = NULL;

  teardown ();
  setup_with_stall (300);
  copy = copy_new (0);
  reader = reader_start ("GET", TOKEN, NULL);
  copy_write (copy, 50 * 1024);
  reader_wait_for (reader, 50 * 1024 - 1);
  assert_unknown_size_cut (copy, reader, "stall");
}
END_TEST

/* ...and so is a reader mid-body when the agent stops: the server's disconnect alone lets
 * the answer go with its zero-length chunk */
START_TEST (test_unknown_size_stop_cuts)
{
  g_autoptr (KithPartialCopy) copy = copy_new (0);
  g_autoptr (Reader) reader = reader_start ("GET", TOKEN, NULL);

  copy_write (copy, 50 * 1024);
  reader_wait_for (reader, 50 * 1024 - 1);
  kith_test_partial_stop (fixture);
  assert_unknown_size_cut (copy, reader, "stopping");
}
END_TEST

/* ...while a copy of unknown size that completes ends with its last chunk, cleanly */
START_TEST (test_unknown_size_complete_ends)
{
  g_autoptr (KithPartialCopy) copy = copy_new (0);
  g_autoptr (Reader) reader = reader_start ("GET", TOKEN, NULL);

  copy_write (copy, 50 * 1024);
  reader_wait_for (reader, 50 * 1024 - 1);
  kith_partial_copy_complete (copy, "0000000000000000000000000000000000000000000000000000000000000000");
  ck_assert_msg (kith_test_wait_until (reader_ended, reader, WAIT_TIMEOUT_MS), "timed out waiting");
  g_assert_no_error (reader->error);
  ck_assert_int_eq (soup_message_headers_get_encoding (soup_message_get_response_headers (reader->msg)),
                    SOUP_ENCODING_CHUNKED);
  assert_content (reader, 0, 50 * 1024);
  ck_assert_uint_eq (fixture->refusals->len, 0);
}
END_TEST

START_TEST (test_range_and_head)
{
  g_autoptr (KithPartialCopy) copy = copy_new (TOTAL);
  g_autoptr (Reader) middle = NULL;
  g_autoptr (Reader) tail = NULL;
  g_autoptr (Reader) past = NULL;
  g_autoptr (Reader) head = NULL;
  g_autofree gchar *past_range = g_strdup_printf ("bytes=%u-", TOTAL);

  copy_write (copy, 1000);
  middle = reader_start ("GET", TOKEN, "bytes=100-199");
  ck_assert_msg (kith_test_wait_until (reader_ended, middle, WAIT_TIMEOUT_MS), "timed out waiting");
  g_assert_no_error (middle->error);
  ck_assert_uint_eq (soup_message_get_status (middle->msg), 206);
  assert_content (middle, 100, 100);
  /* the tail includes the file's last byte: it ends only with the complete copy */
  tail = reader_start ("GET", TOKEN, "bytes=-10");
  copy_write (copy, TOTAL - 1000);
  reader_wait_for (tail, 9);
  kith_partial_copy_complete (copy, "0000000000000000000000000000000000000000000000000000000000000000");
  ck_assert_msg (kith_test_wait_until (reader_ended, tail, WAIT_TIMEOUT_MS), "timed out waiting");
  g_assert_no_error (tail->error);
  assert_content (tail, TOTAL - 10, 10);
  past = reader_start ("GET", TOKEN, past_range);
  ck_assert_msg (kith_test_wait_until (reader_ended, past, WAIT_TIMEOUT_MS), "timed out waiting");
  ck_assert_uint_eq (soup_message_get_status (past->msg), 416);
  head = reader_start ("HEAD", TOKEN, NULL);
  ck_assert_msg (kith_test_wait_until (reader_ended, head, WAIT_TIMEOUT_MS), "timed out waiting");
  ck_assert_uint_eq (soup_message_get_status (head->msg), 200);
  ck_assert_int_eq (soup_message_headers_get_content_length (soup_message_get_response_headers (head->msg)),
                    TOTAL);
  ck_assert_uint_eq (head->received->len, 0);
}
END_TEST

START_TEST (test_reader_cap)
{
  g_autoptr (KithPartialCopy) copy = copy_new (TOTAL);
  g_autoptr (Reader) first = NULL;
  g_autoptr (Reader) second = NULL;

  kith_partial_handler_set_max_readers (fixture->handler, 1);
  copy_write (copy, 1000);
  first = reader_start ("GET", TOKEN, NULL);
  reader_wait_for (first, 1000);
  second = reader_start ("GET", TOKEN, NULL);
  ck_assert_msg (kith_test_wait_until (reader_ended, second, WAIT_TIMEOUT_MS), "timed out waiting");
  ck_assert_uint_eq (soup_message_get_status (second->msg), 503);
  ck_assert_uint_eq (fixture->refusals->len, 1);
  ck_assert_str_eq (g_ptr_array_index (fixture->refusals, 0), "readers");
  ck_assert_uint_eq (kith_partial_copy_get_readers (copy), 1);
}
END_TEST

START_TEST (test_not_found)
{
  g_autoptr (KithPartialCopy) copy = copy_new (TOTAL);
  g_autoptr (Reader) right = reader_start ("HEAD", kith_partial_copy_get_token (copy), NULL);
  g_autofree gchar *below = g_strconcat (TOKEN, "/x", NULL);
  g_autofree gchar *above = g_strconcat ("../", TOKEN, NULL);
  const gchar *tokens[] = { "0123456789abcdef0123456789abcdee", "0123456789ABCDEF0123456789ABCDEF", "0123",
                            below, above };

  ck_assert_msg (kith_test_wait_until (reader_ended, right, WAIT_TIMEOUT_MS), "timed out waiting");
  ck_assert_uint_eq (soup_message_get_status (right->msg), 200);
  for (guint i = 0; i < G_N_ELEMENTS (tokens); i++) {
    g_autoptr (Reader) reader = reader_start ("GET", tokens[i], NULL);
    ck_assert_msg (kith_test_wait_until (reader_ended, reader, WAIT_TIMEOUT_MS), "timed out waiting");
    ck_assert_msg (soup_message_get_status (reader->msg) == 404, "%s: %u", tokens[i],
                   soup_message_get_status (reader->msg));
  }
}
END_TEST

static gboolean
table_empty (gpointer user_data)
{
  return kith_partial_table_get_size (fixture->table) == 0;
}

/* A failed copy leaves the table at once, a complete one after its linger; the table is
 * bounded and drops finished copies first. */
START_TEST (test_table)
{
  g_autoptr (KithPartialCopy) copy = copy_new (TOTAL);
  g_autoptr (KithPartialCopy) found = kith_partial_table_lookup (fixture->table, TOKEN);
  g_autoptr (KithPartialCopy) growing = NULL;

  ck_assert_ptr_eq (found, copy);
  kith_partial_copy_fail (copy);
  ck_assert_msg (kith_test_wait_until (table_empty, NULL, WAIT_TIMEOUT_MS), "timed out waiting");
  g_clear_object (&copy);
  copy = copy_new (TOTAL);
  kith_partial_copy_complete (copy, "0000000000000000000000000000000000000000000000000000000000000000");
  ck_assert_uint_eq (kith_partial_table_get_size (fixture->table), 1);
  ck_assert_msg (kith_test_wait_until (table_empty, NULL, WAIT_TIMEOUT_MS), "timed out waiting");
  /* full: the finished copies go before any growing one */
  growing = kith_partial_copy_new ("ffffffffffffffffffffffffffffffff", "h", fixture->file_path, 0, NULL);
  kith_partial_table_add (fixture->table, growing);
  for (guint i = 0; i < KITH_PARTIAL_TABLE_MAX + 10; i++) {
    g_autofree gchar *token = g_strdup_printf ("%032x", i);
    g_autoptr (KithPartialCopy) other = kith_partial_copy_new (token, "h", fixture->file_path, 0, NULL);
    kith_partial_copy_complete (other, "00");
    kith_partial_table_add (fixture->table, other);
  }
  ck_assert_uint_eq (kith_partial_table_get_size (fixture->table), KITH_PARTIAL_TABLE_MAX);
  g_clear_object (&found);
  found = kith_partial_table_lookup (fixture->table, "ffffffffffffffffffffffffffffffff");
  ck_assert_ptr_eq (found, growing);
}
END_TEST

static Suite *
partial_suite (void)
{
  Suite *s = suite_create ("partial");
  TCase *tc = tcase_create ("http");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_bytes_while_growing);
  tcase_add_test (tc, test_failure_cuts);
  tcase_add_test (tc, test_stall_cuts);
  tcase_add_test (tc, test_unknown_size_chunked);
  tcase_add_test (tc, test_unknown_size_failure_cuts);
  tcase_add_test (tc, test_unknown_size_stall_cuts);
  tcase_add_test (tc, test_unknown_size_stop_cuts);
  tcase_add_test (tc, test_unknown_size_complete_ends);
  tcase_add_test (tc, test_range_and_head);
  tcase_add_test (tc, test_reader_cap);
  tcase_add_test (tc, test_not_found);
  tcase_add_test (tc, test_table);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return kith_test_run_suite (partial_suite ());
}
