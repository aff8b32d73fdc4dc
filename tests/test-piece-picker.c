/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-piece-picker.c — the rules by which a fetch in pieces picks the piece to ask of a
 * source (kith-piece-picker.h), on made-up sources, without a network: rarest first and
 * at random among equals, nothing verified or asked twice, the origin only for pieces no
 * other source has, a growing copy's pieces past its progress last, a stale piece map
 * probed, and duplicates only when nothing else is left and a piece is stuck */
#include <check.h>

#include "kith-test-suite.h"

#include <string.h>

#include "kith-piece-list.h"
#include "kith-piece-map.h"
#include "kith-piece-picker.h"

#define COUNT 8
#define PIECE KITH_PIECE_LIST_MIN_PIECE_SIZE
#define NOW_US ((gint64) 1000 * G_USEC_PER_SEC)

typedef struct {
  KithPieceList *pieces;
  guint8 verified[COUNT];
  guint8 asked[COUNT];
  guint16 avail[COUNT];
  KithPiecePickerSource source[4];
  KithPiecePickerRequest request[4];
  GPtrArray *sources;
  GPtrArray *requests;
  KithPiecePicker picker;
} Fixture;

static Fixture f;

static void
setup (void)
{
  g_autofree gchar *hashes = g_strnfill (64 * COUNT, 'a');

  memset (&f, 0, sizeof f);
  f.pieces = kith_piece_list_new ((guint64) COUNT * PIECE, PIECE, hashes, NULL);
  ck_assert_ptr_nonnull (f.pieces);
  f.sources = g_ptr_array_new ();
  f.requests = g_ptr_array_new ();
  f.picker = (KithPiecePicker) {
    .pieces = f.pieces,
    .count = COUNT,
    .verified = f.verified,
    .asked = f.asked,
    .avail = f.avail,
    .sources = f.sources,
    .requests = f.requests,
  };
}

static void
teardown (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (f.source); i++)
    g_clear_pointer (&f.source[i].map, kith_piece_map_free);
  g_ptr_array_unref (f.sources);
  g_ptr_array_unref (f.requests);
  kith_piece_list_free (f.pieces);
}

/* Source @n, with a piece map of pieces @first to @last (inclusive), among the sources. */
static KithPiecePickerSource *
add_mapped (guint n, guint first, guint last)
{
  KithPiecePickerSource *source = &f.source[n];

  source->map = kith_piece_map_new (COUNT);
  for (guint i = first; i <= last; i++)
    kith_piece_map_set (source->map, i);
  source->available = (guint64) COUNT * PIECE;
  g_ptr_array_add (f.sources, source);
  return source;
}

/* Source @n without a map, that has its first @pieces pieces. */
static KithPiecePickerSource *
add_prefix (guint n, guint pieces, gboolean growing)
{
  KithPiecePickerSource *source = &f.source[n];

  source->available = (guint64) pieces * PIECE;
  source->growing = growing;
  g_ptr_array_add (f.sources, source);
  return source;
}

/* Piece @index asked of @source since @age_ms ago. */
static void
add_request (guint n, const KithPiecePickerSource *source, guint index, gint64 age_ms)
{
  f.request[n] = (KithPiecePickerRequest) { source, index, NOW_US - age_ms * 1000 };
  f.asked[index]++;
  g_ptr_array_add (f.requests, &f.request[n]);
}

static guint
pick (const KithPiecePickerSource *source)
{
  kith_piece_picker_count_avail (&f.picker);
  return kith_piece_picker_pick (&f.picker, source, NOW_US);
}

/* ---- rarest first ---- */

START_TEST (test_rarest_first)
{
  KithPiecePickerSource *a = add_mapped (0, 0, 7);

  add_mapped (1, 0, 6);
  add_mapped (2, 0, 5);
  ck_assert_uint_eq (pick (a), 7); /* only a has it */
  ck_assert_uint_eq (f.avail[7], 1);
  ck_assert_uint_eq (f.avail[6], 2);
  ck_assert_uint_eq (f.avail[0], 3);
  f.asked[7] = 1;
  ck_assert_uint_eq (pick (a), 6);
  f.verified[6] = 1; /* held: not asked again, not counted */
  ck_assert_uint_eq (pick (a) < 6, TRUE);
  ck_assert_uint_eq (f.avail[6], 0);
}
END_TEST

/* Equally rare pieces are each picked in turn, never a commoner one. */
START_TEST (test_random_among_equals)
{
  KithPiecePickerSource *a = add_mapped (0, 0, 7);
  guint seen[COUNT] = { 0 };

  add_mapped (1, 0, 3);
  g_random_set_seed (7);
  for (guint round = 0; round < 400; round++)
    seen[pick (a)]++;
  for (guint i = 0; i < 4; i++)
    ck_assert_uint_eq (seen[i], 0);
  for (guint i = 4; i < COUNT; i++)
    ck_assert_uint_gt (seen[i], 50);
}
END_TEST

/* What is before the first missing piece, verified or asked is not picked. */
START_TEST (test_only_missing_unasked)
{
  KithPiecePickerSource *a = add_mapped (0, 0, 7);

  f.picker.first_missing = 3;
  f.asked[3] = f.asked[5] = f.asked[7] = 1;
  f.verified[4] = f.verified[6] = 1;
  ck_assert_uint_eq (pick (a), KITH_PIECE_PICKER_NONE); /* nothing left, no request to duplicate */
  f.asked[5] = 0;
  ck_assert_uint_eq (pick (a), 5);
}
END_TEST

/* A complete copy without a map: only the pieces wholly inside what it has. */
START_TEST (test_prefix_without_map)
{
  KithPiecePickerSource *a = add_prefix (0, 3, FALSE);

  for (guint round = 0; round < 50; round++)
    ck_assert_uint_lt (pick (a), 3);
  f.asked[0] = f.asked[1] = f.asked[2] = 1;
  ck_assert_uint_eq (pick (a), KITH_PIECE_PICKER_NONE);
}
END_TEST

/* The origin (fallback) is asked only for pieces no other source has, and counts for none. */
START_TEST (test_fallback_only_for_the_rest)
{
  KithPiecePickerSource *origin;

  add_mapped (0, 0, 5);
  origin = add_mapped (1, 0, 7);
  origin->fallback = TRUE;
  for (guint round = 0; round < 50; round++) {
    guint index = pick (origin);
    ck_assert (index == 6 || index == 7);
  }
  ck_assert_uint_eq (f.avail[7], 0);
  ck_assert_uint_eq (f.avail[0], 1);
  f.asked[6] = f.asked[7] = 1;
  ck_assert_uint_eq (pick (origin), KITH_PIECE_PICKER_NONE);
}
END_TEST

/* A growing copy without a map is asked up to 4 pieces past its progress, but those only
 * when it has none before, however rare they are. */
START_TEST (test_growing_ahead_last)
{
  KithPiecePickerSource *a = add_prefix (0, 2, TRUE);

  add_mapped (1, 0, 1); /* pieces 0 and 1 are commoner than 2 to 5 */
  for (guint round = 0; round < 50; round++)
    ck_assert_uint_lt (pick (a), 2);
  ck_assert_uint_eq (f.avail[5], 1);
  ck_assert_uint_eq (f.avail[6], 0);
  f.asked[0] = f.asked[1] = 1;
  for (guint round = 0; round < 50; round++) {
    guint index = pick (a);
    ck_assert (index >= 2 && index <= 5);
  }
}
END_TEST

/* A partial copy that announced more than its map says is probed for the rarest piece its
 * map does not claim; one whose map is up to date is not. */
START_TEST (test_stale_map_probed)
{
  KithPiecePickerSource *a = add_mapped (0, 0, 0);

  add_mapped (1, 1, 6);
  a->growing = TRUE;
  a->available = 3 * PIECE;
  f.verified[0] = 1;
  f.picker.first_missing = 1;
  ck_assert_uint_eq (pick (a), 7); /* nobody claims it */
  f.asked[7] = 1;
  ck_assert_uint_gt (pick (a), 0);
  a->available = PIECE; /* the map says all it announced */
  ck_assert_uint_eq (pick (a), KITH_PIECE_PICKER_NONE);
}
END_TEST

/* ---- duplicates near the end ---- */

START_TEST (test_duplicate_only_at_the_end)
{
  KithPiecePickerSource *a = add_mapped (0, 0, 7);
  KithPiecePickerSource *b = add_mapped (1, 0, 7);

  for (guint i = 0; i < COUNT; i++)
    f.verified[i] = 1;
  f.verified[2] = f.verified[5] = 0;
  add_request (0, b, 2, 300);
  ck_assert_uint_eq (pick (a), 5); /* a piece nobody is asked for first */
  f.verified[5] = 1;
  ck_assert_uint_eq (pick (a), 2); /* then the one stuck on b */
  ck_assert_uint_eq (pick (b), KITH_PIECE_PICKER_NONE); /* not of the source it is stuck on */
  a->inflight = 1;
  ck_assert_uint_eq (pick (a), KITH_PIECE_PICKER_NONE); /* only of an idle source */
}
END_TEST

/* A piece is duplicated once, after 200 ms and 4 times the mean piece time. */
START_TEST (test_duplicate_when_stuck)
{
  KithPiecePickerSource *a = add_mapped (0, 0, 7);
  KithPiecePickerSource *b = add_mapped (1, 0, 7);

  for (guint i = 0; i < COUNT; i++)
    f.verified[i] = 1;
  f.verified[2] = 0;
  add_request (0, b, 2, 150);
  ck_assert_uint_eq (pick (a), KITH_PIECE_PICKER_NONE);
  f.request[0].started_us = NOW_US - 250 * 1000;
  ck_assert_uint_eq (pick (a), 2);
  f.picker.mean_piece_us = 100 * 1000;
  ck_assert_uint_eq (pick (a), KITH_PIECE_PICKER_NONE); /* not 400 ms yet */
  f.request[0].started_us = NOW_US - 400 * 1000;
  ck_assert_uint_eq (pick (a), 2);
  f.asked[2] = 2; /* already asked of another as well */
  ck_assert_uint_eq (pick (a), KITH_PIECE_PICKER_NONE);
}
END_TEST

START_TEST (test_usable)
{
  KithPiecePickerSource source = { 0 };

  ck_assert (kith_piece_picker_usable (&source, NOW_US));
  source.busy_until_us = NOW_US + 1;
  ck_assert (!kith_piece_picker_usable (&source, NOW_US));
  ck_assert (kith_piece_picker_usable (&source, NOW_US + 1));
  source.inflight = KITH_PIECE_PICKER_PER_SOURCE;
  ck_assert (!kith_piece_picker_usable (&source, NOW_US + 1));
  source.inflight = 0;
  source.gone = TRUE;
  ck_assert (!kith_piece_picker_usable (&source, NOW_US + 1));
}
END_TEST

static Suite *
piece_picker_suite (void)
{
  Suite *s = suite_create ("piece-picker");
  TCase *rarest = tcase_create ("rarest");
  TCase *end = tcase_create ("end");

  tcase_add_checked_fixture (rarest, setup, teardown);
  tcase_add_test (rarest, test_rarest_first);
  tcase_add_test (rarest, test_random_among_equals);
  tcase_add_test (rarest, test_only_missing_unasked);
  tcase_add_test (rarest, test_prefix_without_map);
  tcase_add_test (rarest, test_fallback_only_for_the_rest);
  tcase_add_test (rarest, test_growing_ahead_last);
  tcase_add_test (rarest, test_stale_map_probed);
  suite_add_tcase (s, rarest);
  tcase_add_checked_fixture (end, setup, teardown);
  tcase_add_test (end, test_duplicate_only_at_the_end);
  tcase_add_test (end, test_duplicate_when_stuck);
  tcase_add_test (end, test_usable);
  suite_add_tcase (s, end);
  return s;
}

int
main (void)
{
  return kith_test_run_suite (piece_picker_suite ());
}
