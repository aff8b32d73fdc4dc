/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-discovery.c — instant discovery across real agent processes on loopback
 * (docs/protocol.md, "Reply order"): a node that heard who holds a file sends its request to
 * that holder alone, and the holder answers at once; one that stays silent is passed over
 * and the LAN asked; holders that all know each other rank
 * themselves alike, so the one the requester names is the one that serves it; with
 * reply-order=random no request names anyone. Asserted by who served and by the holders'
 * counters, never by timing. */
#include "kith-test-node.h"
#include "kith-test-origin.h"

#include <check.h>

#include "kith-test-suite.h"

static guint16 test_port;

/* Slots far apart, so that only the named holder can be first even on a loaded machine:
 * the next one waits 300 ms, and a requester that knows a holder waits 2 s. */
#define SPREAD_TIMINGS "reply-slot-ms=300\nmax-delay-ms=1000\nmiss-wait-ms=1000\nclient-wait-ms=2000\n"

typedef struct {
  KithTestNode *node;
  guint min;
} HeardComplete;

static gboolean
heard_complete (gpointer user_data)
{
  HeardComplete *heard = user_data;
  return kith_test_node_peering_counter (heard->node, "packets-in", "type=\"complete\"") >= heard->min;
}

/* Waits until @node has heard @min "complete" packets: what it knows of holders. */
static void
wait_heard_complete (KithTestNode *node, guint min)
{
  HeardComplete heard = { node, min };
  ck_assert (kith_test_wait_until (heard_complete, &heard, 10000));
}

START_TEST (test_known_holder_answers_at_once)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (64 * 1024, 41);
  g_autofree gchar *sha = kith_test_sha256 (content);
  g_autofree gchar *url = kith_test_origin_url (origin, "/hinted");
  g_autoptr (KithTestNode) a = kith_test_node_start_peering (test_port, SPREAD_TIMINGS);
  g_autoptr (KithTestNode) b = kith_test_node_start_peering (test_port, SPREAD_TIMINGS);
  g_autoptr (KithTestNode) c = kith_test_node_start_peering (test_port, SPREAD_TIMINGS);
  g_autofree gchar *source_a = NULL;
  g_autofree gchar *source_b = NULL;
  g_autofree gchar *source_c = NULL;
  guint64 hinted_a, hinted_b;
  gdouble heard_by_c, heard_by_ab;

  kith_test_origin_add (origin, "/hinted", content, 0);
  source_a = kith_test_fetch_sync (a, url, sha, FALSE, content);
  ck_assert_str_eq (source_a, "origin");
  /* B heard A's "complete": it asks A by name, and A answers at once */
  wait_heard_complete (b, 1);
  heard_by_c = kith_test_node_peering_counter (c, "packets-in", "type=\"request\"");
  source_b = kith_test_fetch_sync (b, url, sha, FALSE, content);
  ck_assert_str_eq (source_b, kith_test_agent_get_node_id (a->agent));
  ck_assert_uint_eq (kith_test_node_peering_status (a, "replies-hinted"), 1);
  /* B asked A alone: C heard neither the request nor the "found" */
  ck_assert_uint_eq ((guint) kith_test_node_peering_counter (b, "requests-direct", "result=\"answered\""), 1);
  ck_assert_uint_eq ((guint) kith_test_node_peering_counter (a, "packets-in", "type=\"request\""), 1);
  ck_assert_uint_eq ((guint) (kith_test_node_peering_counter (c, "packets-in", "type=\"request\"") - heard_by_c), 0);
  ck_assert_uint_eq ((guint) kith_test_node_peering_counter (c, "packets-in", "type=\"found\""), 0);
  /* a copy from a peer is announced too: C now knows A and B, names the one of them that
   * ranks first for its request, and that one serves it */
  wait_heard_complete (c, 2);
  heard_by_ab = kith_test_node_peering_counter (a, "packets-in", "type=\"request\"") +
                kith_test_node_peering_counter (b, "packets-in", "type=\"request\"");
  source_c = kith_test_fetch_sync (c, url, sha, FALSE, content);
  hinted_a = kith_test_node_peering_status (a, "replies-hinted");
  hinted_b = kith_test_node_peering_status (b, "replies-hinted");
  ck_assert_uint_eq (hinted_a + hinted_b, 2);
  /* C's request, too, went to the one it named only */
  ck_assert_uint_eq ((guint) (kith_test_node_peering_counter (a, "packets-in", "type=\"request\"") +
                              kith_test_node_peering_counter (b, "packets-in", "type=\"request\"") - heard_by_ab), 1);
  if (hinted_b == 1)
    ck_assert_str_eq (source_c, kith_test_agent_get_node_id (b->agent));
  else
    ck_assert_str_eq (source_c, kith_test_agent_get_node_id (a->agent));
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/hinted"), 1);
}
END_TEST

/* Many requests of one requester to two holders that know each other: each request names
 * the holder that ranks first for it, so both serve some, and every reply was the named
 * holder's (the other one's slot never came). */
START_TEST (test_rank_spreads_load)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (KithTestNode) a = kith_test_node_start_peering (test_port, SPREAD_TIMINGS);
  g_autoptr (KithTestNode) b = kith_test_node_start_peering (test_port, SPREAD_TIMINGS);
  g_autoptr (KithTestNode) c = kith_test_node_start_peering (test_port, SPREAD_TIMINGS);
  const guint files = 16;
  gdouble responses = 0;
  guint64 served_by_a = 0, served_by_b = 0;

  for (guint i = 0; i < files; i++) {
    g_autofree gchar *path = g_strdup_printf ("/spread-%u", i);
    g_autofree gchar *url = kith_test_origin_url (origin, path);
    g_autoptr (GBytes) content = kith_test_make_content (8 * 1024, 100 + i);
    g_autofree gchar *sha = kith_test_sha256 (content);
    g_autofree gchar *first = NULL;
    g_autofree gchar *second = NULL;
    kith_test_origin_add (origin, path, content, 0);
    first = kith_test_fetch_sync (a, url, sha, FALSE, content);
    wait_heard_complete (b, i + 1);
    second = kith_test_fetch_sync (b, url, sha, FALSE, content);
    ck_assert_str_eq (second, kith_test_agent_get_node_id (a->agent));
    wait_heard_complete (c, 2 * i + 2);
  }
  responses = kith_test_node_peering_counter (a, "packets-out", "type=\"response\"") +
              kith_test_node_peering_counter (b, "packets-out", "type=\"response\"");
  for (guint i = 0; i < files; i++) {
    g_autofree gchar *path = g_strdup_printf ("/spread-%u", i);
    g_autofree gchar *url = kith_test_origin_url (origin, path);
    g_autoptr (GBytes) content = kith_test_make_content (8 * 1024, 100 + i);
    g_autofree gchar *sha = kith_test_sha256 (content);
    g_autofree gchar *source = kith_test_fetch_sync (c, url, sha, FALSE, content);
    if (g_strcmp0 (source, kith_test_agent_get_node_id (a->agent)) == 0)
      served_by_a++;
    else if (g_strcmp0 (source, kith_test_agent_get_node_id (b->agent)) == 0)
      served_by_b++;
  }
  ck_assert_uint_eq (served_by_a + served_by_b, files);
  /* 16 requests, each first for A or B with even odds: both serve (a 2^-15 chance not) */
  ck_assert_uint_ge (served_by_a, 1);
  ck_assert_uint_ge (served_by_b, 1);
  /* every one of C's requests named its server, and nobody else answered */
  ck_assert_uint_eq (kith_test_node_peering_status (a, "replies-hinted") - files +
                     kith_test_node_peering_status (b, "replies-hinted"), files);
  responses = kith_test_node_peering_counter (a, "packets-out", "type=\"response\"") +
              kith_test_node_peering_counter (b, "packets-out", "type=\"response\"") - responses;
  ck_assert_uint_eq ((guint) responses, files);
}
END_TEST

/* A holder known from its "complete" that is gone by the time it is asked: its slot passes
 * without an answer, it is forgotten as a holder, and the request goes to the whole LAN
 * (nobody else holds the file: the requester fetches it from the origin). */
START_TEST (test_silent_holder_passed_over)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (16 * 1024, 43);
  g_autofree gchar *sha = kith_test_sha256 (content);
  g_autofree gchar *url = kith_test_origin_url (origin, "/gone");
  g_autoptr (KithTestNode) a = kith_test_node_start_peering (test_port, SPREAD_TIMINGS);
  g_autoptr (KithTestNode) b = kith_test_node_start_peering (test_port, SPREAD_TIMINGS);
  g_autoptr (KithTestNode) c = kith_test_node_start_peering (test_port, SPREAD_TIMINGS);
  g_autofree gchar *source_a = NULL;
  g_autofree gchar *source_b = NULL;
  gdouble heard_by_c;

  kith_test_origin_add (origin, "/gone", content, 0);
  source_a = kith_test_fetch_sync (a, url, sha, FALSE, content);
  ck_assert_str_eq (source_a, "origin");
  wait_heard_complete (b, 1);
  kith_test_node_stop (a);
  heard_by_c = kith_test_node_peering_counter (c, "packets-in", "type=\"request\"");
  source_b = kith_test_fetch_sync (b, url, sha, FALSE, content);
  ck_assert_str_eq (source_b, "origin");
  ck_assert_uint_eq ((guint) kith_test_node_peering_counter (b, "requests-direct", "result=\"unanswered\""), 1);
  ck_assert_uint_eq ((guint) kith_test_node_peering_counter (b, "requests-direct", "result=\"answered\""), 0);
  /* the LAN was asked once A's slot had passed */
  ck_assert_uint_eq ((guint) (kith_test_node_peering_counter (c, "packets-in", "type=\"request\"") - heard_by_c), 1);
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/gone"), 2);
}
END_TEST

/* reply-order=random keeps the patent's behaviour: no hints, a random delay each. */
START_TEST (test_random_order_names_nobody)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (32 * 1024, 42);
  g_autofree gchar *sha = kith_test_sha256 (content);
  g_autofree gchar *url = kith_test_origin_url (origin, "/random");
  g_autoptr (KithTestNode) a = kith_test_node_start_peering (test_port, "reply-order=random\n");
  g_autoptr (KithTestNode) b = kith_test_node_start_peering (test_port, "reply-order=random\n");
  g_autofree gchar *source_a = NULL;
  g_autofree gchar *source_b = NULL;

  kith_test_origin_add (origin, "/random", content, 0);
  source_a = kith_test_fetch_sync (a, url, sha, FALSE, content);
  wait_heard_complete (b, 1);
  source_b = kith_test_fetch_sync (b, url, sha, FALSE, content);
  ck_assert_str_eq (source_b, kith_test_agent_get_node_id (a->agent));
  ck_assert_uint_eq (kith_test_node_peering_status (a, "replies-hinted"), 0);
  ck_assert_uint_eq ((guint) kith_test_node_peering_counter (b, "requests-direct", "result=\"answered\""), 0);
}
END_TEST

static Suite *
discovery_suite (void)
{
  Suite *suite = suite_create ("discovery");
  TCase *tc = tcase_create ("discovery");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_known_holder_answers_at_once);
  tcase_add_test (tc, test_rank_spreads_load);
  tcase_add_test (tc, test_silent_holder_passed_over);
  tcase_add_test (tc, test_random_order_names_nobody);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (int argc, char **argv)
{
  test_port = g_random_int_range (20000, 60000);
  return kith_test_run_suite (discovery_suite ());
}
