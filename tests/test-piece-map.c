/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-piece-map.c — piece maps (docs/protocol.md "Pieces"): the bit per piece and its
 * strict hex form, whatever the network sends; a partial copy fetched in pieces, which
 * serves the pieces it has verified in any order over real HTTP on 127.0.0.1 and refuses
 * any other at once (416), saying in Kith-Pieces which it has */
#include <check.h>

#include "kith-test-agent.h"
#include "kith-test-suite.h"
#include "kith-test-util.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "kith-test-partial.h"
#include "kith-piece-map.h"

#define TOKEN "00112233445566778899aabbccddeeff"
#define PIECE 1000
#define COUNT 10
#define TOTAL (COUNT * PIECE - 300) /* the last piece is shorter */
#define WAIT_TIMEOUT_MS 20000

/* ---- the map and its wire form ---- */

START_TEST (test_map_bits)
{
  g_autoptr (KithPieceMap) map = kith_piece_map_new (12);
  g_autoptr (KithPieceMap) less = kith_piece_map_new (12);
  g_autofree gchar *hex = NULL;
  g_autofree gchar *empty = kith_piece_map_to_hex (less);

  ck_assert_str_eq (empty, "0000");
  kith_piece_map_set (map, 0);
  kith_piece_map_set (map, 9);
  kith_piece_map_set (map, 11);
  kith_piece_map_set (map, 11); /* counted once */
  ck_assert_uint_eq (kith_piece_map_get_set_count (map), 3);
  ck_assert (kith_piece_map_get (map, 0) && kith_piece_map_get (map, 9) && kith_piece_map_get (map, 11));
  ck_assert (!kith_piece_map_get (map, 1) && !kith_piece_map_get (map, 10));
  /* piece 0 is the high bit of the first byte; the unused low bits of the last are 0 */
  hex = kith_piece_map_to_hex (map);
  ck_assert_str_eq (hex, "8050");
  kith_piece_map_set (less, 9);
  ck_assert (kith_piece_map_covers (map, less));
  ck_assert (!kith_piece_map_covers (less, map));
  kith_piece_map_set (less, 5);
  ck_assert (!kith_piece_map_covers (map, less)); /* a piece taken back, seen from @map */
  kith_piece_map_set_all (less);
  ck_assert_uint_eq (kith_piece_map_get_set_count (less), 12);
  g_free (hex);
  hex = kith_piece_map_to_hex (less);
  ck_assert_str_eq (hex, "fff0");
}
END_TEST

START_TEST (test_map_round_trip)
{
  for (guint count = 1; count <= 20; count++) {
    g_autoptr (KithPieceMap) map = kith_piece_map_new (count);
    g_autoptr (KithPieceMap) back = NULL;
    g_autofree gchar *hex = NULL;
    g_autoptr (GError) error = NULL;

    for (guint i = 0; i < count; i += 3)
      kith_piece_map_set (map, i);
    hex = kith_piece_map_to_hex (map);
    ck_assert_uint_eq (strlen (hex), 2 * ((count + 7) / 8));
    back = kith_piece_map_new_from_hex (hex, count, &error);
    g_assert_no_error (error);
    ck_assert_uint_eq (kith_piece_map_get_count (back), count);
    ck_assert_uint_eq (kith_piece_map_get_set_count (back), kith_piece_map_get_set_count (map));
    ck_assert (kith_piece_map_covers (back, map) && kith_piece_map_covers (map, back));
  }
}
END_TEST

/* Any map the network sends that is not exactly one of a file of 12 pieces is refused:
 * another length (another file's), upper case, signs, spaces, a bit past the last piece. */
START_TEST (test_map_strict)
{
  const gchar *bad[] = { "", "8", "805", "805000", "80500000", "8G50", "8F50", "+050", " 050", "0x50",
                         "8051", "8058", "805f" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (KithPieceMap) map = kith_piece_map_new_from_hex (bad[i], 12, &error);
    ck_assert_msg (map == NULL, "\"%s\" was taken", bad[i]);
    ck_assert_msg (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA), "\"%s\"", bad[i]);
  }
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (KithPieceMap) map = kith_piece_map_new_from_hex (NULL, 12, &error);
    ck_assert_ptr_null (map);
    ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA));
  }
  {
    g_autoptr (KithPieceMap) map = kith_piece_map_new_from_hex ("fff0", 12, NULL);
    ck_assert_ptr_nonnull (map);
    ck_assert_uint_eq (kith_piece_map_get_set_count (map), 12);
  }
}
END_TEST

/* ---- a partial copy fetched in pieces, over HTTP ---- */

static KithTestPartial *fixture;
static GBytes *content;

static void
setup (void)
{
  guint8 *data = g_malloc (TOTAL);

  fixture = kith_test_partial_new ("piece-map", 5000);
  for (gsize i = 0; i < TOTAL; i++)
    data[i] = (guint8) (i * 13 + i / 7);
  content = g_bytes_new_take (data, TOTAL);
  /* the pieces are written at their places, in any order: the file has its full size */
  ck_assert (g_file_set_contents (fixture->file_path, g_bytes_get_data (content, NULL), TOTAL, NULL));
}

static void
teardown (void)
{
  g_clear_pointer (&fixture, kith_test_partial_free);
  g_clear_pointer (&content, g_bytes_unref);
}

typedef struct {
  SoupMessage *msg;
  GBytes *body;
  GError *error;
  gboolean done;
} Answer;

static void
answer_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Answer *answer = user_data;

  answer->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &answer->error);
  answer->done = TRUE;
}

static gboolean
answer_is_done (gpointer user_data)
{
  return ((Answer *) user_data)->done;
}

/* A GET of bytes [@first, @last] of the copy, to its end (bounded). Caller clears. */
static void
get_range (Answer *answer, guint64 first, guint64 last)
{
  g_autofree gchar *url = kith_test_partial_url (fixture, TOKEN);

  *answer = (Answer) { soup_message_new ("GET", url), NULL, NULL, FALSE };
  soup_message_headers_set_range (soup_message_get_request_headers (answer->msg), (goffset) first, (goffset) last);
  soup_session_send_and_read_async (fixture->session, answer->msg, G_PRIORITY_DEFAULT, NULL, answer_read, answer);
  ck_assert_msg (kith_test_wait_until (answer_is_done, answer, WAIT_TIMEOUT_MS), "the answer did not end");
  g_assert_no_error (answer->error);
}

static void
answer_clear (Answer *answer)
{
  g_clear_object (&answer->msg);
  g_clear_pointer (&answer->body, g_bytes_unref);
}

static const gchar *
answer_map (Answer *answer)
{
  return soup_message_headers_get_one (soup_message_get_response_headers (answer->msg), KITH_PIECE_MAP_HEADER);
}

/* Piece @index, whole. */
static void
get_piece (Answer *answer, guint index)
{
  guint64 first = (guint64) index * PIECE;
  guint64 last = MIN (first + PIECE, (guint64) TOTAL) - 1;

  get_range (answer, first, last);
}

static void
assert_piece (Answer *answer, guint index)
{
  gsize offset = (gsize) index * PIECE;
  gsize len = MIN ((gsize) PIECE, TOTAL - offset);
  g_autoptr (GBytes) want = g_bytes_new_from_bytes (content, offset, len);

  ck_assert_uint_eq (soup_message_get_status (answer->msg), 206);
  ck_assert (g_bytes_equal (answer->body, want));
}

/* Verified pieces are served at once, out of order, the last (short) one and a range
 * inside one too, with the map; a piece not verified, or a range reaching into one, is
 * refused at once (416, refused "missing") with the same map; once the copy is
 * complete, every piece is served and the map has them all. */
START_TEST (test_copy_serves_verified_pieces)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KithPartialCopy) copy = kith_partial_copy_new (TOKEN, "http://origin/f", fixture->file_path, TOTAL, &error);
  g_autofree gchar *map = NULL;
  Answer answer;

  g_assert_no_error (error);
  kith_partial_table_add (fixture->table, copy);
  kith_partial_copy_set_pieces (copy, PIECE, COUNT);
  ck_assert (kith_partial_copy_has_pieces (copy));
  kith_partial_copy_add_piece (copy, 7);
  kith_partial_copy_add_piece (copy, 2);
  kith_partial_copy_add_piece (copy, COUNT - 1);
  kith_partial_copy_add_piece (copy, COUNT); /* past the last: ignored */
  map = kith_partial_copy_get_piece_map (copy);
  ck_assert_str_eq (map, "2140");
  ck_assert (kith_partial_copy_has_range (copy, 7 * PIECE, 8 * PIECE));
  ck_assert (!kith_partial_copy_has_range (copy, 7 * PIECE, 8 * PIECE + 1));
  ck_assert (!kith_partial_copy_has_range (copy, 0, 1));

  get_piece (&answer, 7);
  assert_piece (&answer, 7);
  ck_assert_str_eq (answer_map (&answer), "2140");
  answer_clear (&answer);
  get_piece (&answer, COUNT - 1);
  assert_piece (&answer, COUNT - 1);
  answer_clear (&answer);
  get_range (&answer, 2 * PIECE + 10, 2 * PIECE + 19);
  ck_assert_uint_eq (soup_message_get_status (answer.msg), 206);
  ck_assert_uint_eq (g_bytes_get_size (answer.body), 10);
  answer_clear (&answer);
  ck_assert_uint_eq (fixture->refusals->len, 0);

  get_piece (&answer, 3);
  ck_assert_uint_eq (soup_message_get_status (answer.msg), 416);
  ck_assert_uint_eq (g_bytes_get_size (answer.body), 0);
  ck_assert_str_eq (answer_map (&answer), "2140");
  answer_clear (&answer);
  get_range (&answer, 7 * PIECE, 8 * PIECE); /* one byte into piece 8 */
  ck_assert_uint_eq (soup_message_get_status (answer.msg), 416);
  answer_clear (&answer);
  ck_assert_uint_eq (fixture->refusals->len, 2);
  ck_assert_str_eq (g_ptr_array_index (fixture->refusals, 0), "missing");
  ck_assert_str_eq (g_ptr_array_index (fixture->refusals, 1), "missing");
  ck_assert_uint_eq (kith_partial_copy_get_readers (copy), 0);

  kith_partial_copy_grow (copy, TOTAL);
  kith_partial_copy_complete (copy, "0000000000000000000000000000000000000000000000000000000000000000");
  g_free (map);
  map = kith_partial_copy_get_piece_map (copy);
  ck_assert_str_eq (map, "ffc0");
  get_piece (&answer, 3);
  assert_piece (&answer, 3);
  ck_assert_str_eq (answer_map (&answer), "ffc0");
  answer_clear (&answer);
}
END_TEST

/* A failed copy has no map to give; one fetched whole never had one. */
START_TEST (test_copy_map_absent)
{
  g_autoptr (KithPartialCopy) whole = kith_partial_copy_new (TOKEN, "http://origin/f", fixture->file_path, TOTAL, NULL);
  g_autoptr (KithPartialCopy) failed = kith_partial_copy_new (TOKEN, "http://origin/f", fixture->file_path, TOTAL, NULL);
  g_autofree gchar *none = kith_partial_copy_get_piece_map (whole);
  g_autofree gchar *gone = NULL;

  ck_assert_ptr_null (none);
  ck_assert (!kith_partial_copy_has_pieces (whole));
  kith_partial_copy_set_pieces (failed, PIECE, COUNT);
  kith_partial_copy_add_piece (failed, 1);
  kith_partial_copy_fail (failed);
  gone = kith_partial_copy_get_piece_map (failed);
  ck_assert_ptr_null (gone);
  ck_assert (!kith_partial_copy_has_range (failed, PIECE, 2 * PIECE));
}
END_TEST

static void
on_served (KithPartialHandler *h, guint64 bytes, gboolean complete, gpointer user_data)
{
  guint64 *served = user_data;

  ck_assert (complete);
  served[0]++;
  served[1] += bytes;
}

/* A verified piece is sent from the file the copy opened, even once that file was renamed
 * and another took its name (on Linux by sendfile, which closes the connection after it);
 * its reader is counted while it is served, and "served" says all of it went. */
START_TEST (test_copy_piece_from_its_file)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KithPartialCopy) copy = kith_partial_copy_new (TOKEN, "http://origin/f", fixture->file_path, TOTAL, &error);
  g_autofree gchar *moved = g_strconcat (fixture->file_path, ".moved", NULL);
  guint64 served[2] = { 0, 0 };
  Answer answer;

  g_assert_no_error (error);
  g_signal_connect (fixture->handler, "served", G_CALLBACK (on_served), served);
  kith_partial_table_add (fixture->table, copy);
  kith_partial_copy_set_pieces (copy, PIECE, COUNT);
  kith_partial_copy_add_piece (copy, 4);
  kith_partial_copy_add_piece (copy, COUNT - 1);
  ck_assert_int_eq (g_rename (fixture->file_path, moved), 0);
  ck_assert (g_file_set_contents (fixture->file_path, "not the copy", -1, NULL));

  get_piece (&answer, 4);
  assert_piece (&answer, 4);
#ifdef __linux__
  ck_assert (soup_message_headers_header_equals (soup_message_get_response_headers (answer.msg), "Connection",
                                                 "close"));
#endif
  answer_clear (&answer);
  get_piece (&answer, COUNT - 1);
  assert_piece (&answer, COUNT - 1);
  answer_clear (&answer);
  ck_assert_uint_eq (served[0], 2);
  ck_assert_uint_eq (served[1], PIECE + (TOTAL - (COUNT - 1) * PIECE));
  ck_assert_uint_eq (kith_partial_handler_get_bytes_served (fixture->handler), served[1]);
  ck_assert_uint_eq (kith_partial_copy_get_readers (copy), 0);
  ck_assert_uint_eq (fixture->refusals->len, 0);
}
END_TEST

/* With every reader of the copy taken, a piece it has not verified is still refused at once
 * (416 and its map: no reader needed), and a verified piece still served (piece reads have
 * their own, larger cap); only a read of the whole copy is turned away (503). */
START_TEST (test_copy_missing_piece_while_readers_taken)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KithPartialCopy) copy = kith_partial_copy_new (TOKEN, "http://origin/f", fixture->file_path, TOTAL,
                                                           &error);
  g_autofree gchar *url = kith_test_partial_url (fixture, TOKEN);
  Answer answer, whole = { soup_message_new ("GET", url), NULL, NULL, FALSE };

  g_assert_no_error (error);
  kith_partial_table_add (fixture->table, copy);
  kith_partial_copy_set_pieces (copy, PIECE, COUNT);
  kith_partial_copy_add_piece (copy, 5);
  kith_partial_handler_set_max_readers (fixture->handler, 2);
  ck_assert (kith_partial_copy_add_reader (copy, 2));
  ck_assert (kith_partial_copy_add_reader (copy, 2));

  get_piece (&answer, 3);
  ck_assert_uint_eq (soup_message_get_status (answer.msg), 416);
  ck_assert_str_eq (answer_map (&answer), "0400");
  answer_clear (&answer);
  get_range (&answer, TOTAL + 10, TOTAL + 20); /* past the end */
  ck_assert_uint_eq (soup_message_get_status (answer.msg), 416);
  answer_clear (&answer);
  get_piece (&answer, 5);
  assert_piece (&answer, 5);
  answer_clear (&answer);
  ck_assert_uint_eq (kith_partial_copy_get_readers (copy), 2);

  soup_session_send_and_read_async (fixture->session, whole.msg, G_PRIORITY_DEFAULT, NULL, answer_read, &whole);
  ck_assert_msg (kith_test_wait_until (answer_is_done, &whole, WAIT_TIMEOUT_MS), "the answer did not end");
  g_assert_no_error (whole.error);
  ck_assert_uint_eq (soup_message_get_status (whole.msg), 503);
  answer_clear (&whole);
  ck_assert_uint_eq (fixture->refusals->len, 3);
  ck_assert_str_eq (g_ptr_array_index (fixture->refusals, 0), "missing");
  ck_assert_str_eq (g_ptr_array_index (fixture->refusals, 1), "missing");
  ck_assert_str_eq (g_ptr_array_index (fixture->refusals, 2), "readers");
  kith_partial_copy_remove_reader (copy);
  kith_partial_copy_remove_reader (copy);
}
END_TEST

static Suite *
piece_map_suite (void)
{
  Suite *s = suite_create ("piece-map");
  TCase *map = tcase_create ("map");
  TCase *copy = tcase_create ("copy");

  tcase_add_test (map, test_map_bits);
  tcase_add_test (map, test_map_round_trip);
  tcase_add_test (map, test_map_strict);
  suite_add_tcase (s, map);
  tcase_add_checked_fixture (copy, setup, teardown);
  tcase_set_timeout (copy, 60);
  tcase_add_test (copy, test_copy_serves_verified_pieces);
  tcase_add_test (copy, test_copy_map_absent);
  tcase_add_test (copy, test_copy_piece_from_its_file);
  tcase_add_test (copy, test_copy_missing_piece_while_readers_taken);
  suite_add_tcase (s, copy);
  return s;
}

int
main (void)
{
  return kith_test_run_suite (piece_map_suite ());
}
