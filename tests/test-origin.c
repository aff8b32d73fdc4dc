/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-origin.c — the tests' origin server (kith-test-origin) counts exactly: right after a
 * plain SoupSession has read the last byte of an answer, kith_test_origin_get_bytes() has
 * counted it, for whole answers, ranges and held ones. The suite runs on one CPU, where the
 * client's wake-up often preempts the server's thread between its socket write and the
 * signal that counts it (a count read without waiting for that thread lags a whole body
 * in about one answer of four there). */
#include <check.h>

#include "kith-test-origin.h"
#include "kith-test-suite.h"

#include <libsoup/soup.h>
#include <sched.h>
#include <string.h>

#define SMALL_SIZE 4096
#define SMALL_ROUNDS 2000
#define LARGE_SIZE (1024 * 1024 + 7)
#define LARGE_ROUNDS 100
#define RANGE_FROM 1000
#define HOLD_BYTES 1500

/* This thread (and the origin's, started after) on the first CPU it may use. */
static void
pin_to_one_cpu (void)
{
  cpu_set_t allowed;
  cpu_set_t one;

  ck_assert_int_eq (sched_getaffinity (0, sizeof allowed, &allowed), 0);
  CPU_ZERO (&one);
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (CPU_ISSET (cpu, &allowed)) {
      CPU_SET (cpu, &one);
      break;
    }
  }
  ck_assert_int_eq (sched_setaffinity (0, sizeof one, &one), 0);
}

static GBytes *
get (SoupSession *session, const gchar *url, const gchar *range, guint expect_status)
{
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GError) error = NULL;
  GBytes *body;

  if (range != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Range", range);
  body = soup_session_send_and_read (session, msg, NULL, &error);
  ck_assert_msg (body != NULL, "%s", error != NULL ? error->message : "");
  ck_assert_uint_eq (soup_message_get_status (msg), expect_status);
  return body;
}

/* Answers of @size bytes from byte @from (0: whole, else a Range "bytes=@from-"), @rounds
 * times: after each, the client has the file's bytes from @from and the count has every one
 * of them so far (a Range answer counts its bytes only). */
static void
check_answers (gsize size, gsize from, guint rounds, guint32 seed)
{
  g_autoptr (KithTestOrigin) origin = NULL;
  g_autoptr (GBytes) content = kith_test_make_content (size, seed);
  g_autoptr (GBytes) expected = g_bytes_new_from_bytes (content, from, size - from);
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree gchar *url = NULL;
  g_autofree gchar *range = from > 0 ? g_strdup_printf ("bytes=%" G_GSIZE_FORMAT "-", from) : NULL;

  pin_to_one_cpu ();
  origin = kith_test_origin_new ();
  kith_test_origin_add (origin, "/f", content, 0);
  url = kith_test_origin_url (origin, "/f");
  for (guint i = 1; i <= rounds; i++) {
    g_autoptr (GBytes) body =
        get (session, url, range, from > 0 ? SOUP_STATUS_PARTIAL_CONTENT : SOUP_STATUS_OK);

    ck_assert (g_bytes_equal (body, expected));
    ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/f"), i);
    ck_assert_uint_eq (kith_test_origin_get_bytes (origin, "/f"), (guint64) i * (size - from));
  }
}

START_TEST (test_small_answers_counted)
{
  check_answers (SMALL_SIZE, 0, SMALL_ROUNDS, 7);
}
END_TEST

START_TEST (test_large_answers_counted)
{
  check_answers (LARGE_SIZE, 0, LARGE_ROUNDS, 7);
}
END_TEST

START_TEST (test_range_answers_counted)
{
  check_answers (SMALL_SIZE, RANGE_FROM, SMALL_ROUNDS, 8);
}
END_TEST

/* A held answer stays unfinished while the count is read: the count has the bytes sent so
 * far, at once, and all of them once the rest is released and read. */
START_TEST (test_held_answer_counted)
{
  g_autoptr (KithTestOrigin) origin = NULL;
  g_autoptr (GBytes) content = kith_test_make_content (SMALL_SIZE, 9);
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GInputStream) stream = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *url = NULL;
  guint8 buffer[SMALL_SIZE + 1];
  gsize got = 0;
  gsize rest = 0;

  pin_to_one_cpu ();
  origin = kith_test_origin_new ();
  kith_test_origin_add (origin, "/h", content, 0);
  kith_test_origin_hold (origin, "/h", HOLD_BYTES);
  url = kith_test_origin_url (origin, "/h");
  msg = soup_message_new ("GET", url);
  stream = soup_session_send (session, msg, NULL, &error);
  ck_assert_msg (stream != NULL, "%s", error != NULL ? error->message : "");
  ck_assert (g_input_stream_read_all (stream, buffer, HOLD_BYTES, &got, NULL, &error));
  ck_assert_uint_eq (got, HOLD_BYTES);
  ck_assert_uint_eq (kith_test_origin_get_bytes (origin, "/h"), HOLD_BYTES);
  kith_test_origin_release (origin, "/h");
  ck_assert (g_input_stream_read_all (stream, buffer + HOLD_BYTES, sizeof buffer - HOLD_BYTES, &rest, NULL,
                                      &error));
  ck_assert_uint_eq (HOLD_BYTES + rest, SMALL_SIZE);
  ck_assert (memcmp (buffer, g_bytes_get_data (content, NULL), SMALL_SIZE) == 0);
  ck_assert_uint_eq (kith_test_origin_get_bytes (origin, "/h"), SMALL_SIZE);
}
END_TEST

int
main (void)
{
  Suite *suite = suite_create ("origin");
  TCase *tc = tcase_create ("count");

  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_small_answers_counted);
  tcase_add_test (tc, test_large_answers_counted);
  tcase_add_test (tc, test_range_answers_counted);
  tcase_add_test (tc, test_held_answer_counted);
  suite_add_tcase (suite, tc);
  return kith_test_run_suite (suite);
}
