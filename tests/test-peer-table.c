/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-peer-table.c — KithPeerTable on a fake clock: the election (lowest recent requester,
 * self, skip, bad peers, the round's horizon), downloaders and their stall, bad-peer expiry,
 * the holder index (learned, bounded, aged), holder addresses (bounded); the reply order of kith-reply-rank.h */
#include <check.h>

#include "kith-peer-table.h"
#include "kith-rate-limit.h"
#include "kith-reply-rank.h"
#include "kith-test-suite.h"

#define SELF "5555555555555555"
#define LOW "1111111111111111"
#define HIGH "9999999999999999"

static gint64 fake_now;
static const KithPeeringTimings timings = {
  .max_delay_ms = 40, .client_wait_ms = 100, .progress_interval_ms = 250,
  .stall_ms = 1000, .bad_peer_ms = 60000,
};

static gint64
fake_clock (gpointer user_data)
{
  return fake_now;
}

static KithPeerTable *
table_new (void)
{
  KithPeerTable *table = kith_peer_table_new (&timings, SELF);

  fake_now = 1000 * G_USEC_PER_SEC;
  kith_peer_table_set_clock (table, fake_clock, NULL);
  return table;
}

static KithPacket *
downloading (const gchar *node, guint64 done, guint64 total)
{
  KithPacket *packet = kith_packet_new (KITH_PACKET_TYPE_DOWNLOADING);

  packet->node = g_strdup (node);
  packet->href = g_strdup ("http://o/f");
  packet->done = done;
  packet->total = total;
  return packet;
}

START_TEST (test_elect_lowest_requester)
{
  g_autoptr (KithPeerTable) table = table_new ();

  /* nobody else asked: we fetch, or nobody when we may not */
  ck_assert_str_eq (kith_peer_table_elect (table, "http://o/f", NULL, TRUE), SELF);
  ck_assert_ptr_null (kith_peer_table_elect (table, "http://o/f", NULL, FALSE));
  kith_peer_table_note_requester (table, "http://o/f", HIGH);
  ck_assert_str_eq (kith_peer_table_elect (table, "http://o/f", NULL, TRUE), SELF);
  ck_assert_str_eq (kith_peer_table_elect (table, "http://o/f", NULL, FALSE), HIGH);
  kith_peer_table_note_requester (table, "http://o/f", LOW);
  ck_assert_str_eq (kith_peer_table_elect (table, "http://o/f", NULL, TRUE), LOW);
  /* another URL is another round */
  ck_assert_str_eq (kith_peer_table_elect (table, "http://o/g", NULL, TRUE), SELF);
}
END_TEST

START_TEST (test_elect_skip_and_bad)
{
  g_autoptr (KithPeerTable) table = table_new ();
  g_autoptr (GHashTable) skip = g_hash_table_new (g_str_hash, g_str_equal);

  kith_peer_table_note_requester (table, "http://o/f", LOW);
  g_hash_table_add (skip, (gpointer) LOW);
  ck_assert_str_eq (kith_peer_table_elect (table, "http://o/f", skip, TRUE), SELF);
  g_hash_table_remove_all (skip);
  ck_assert (kith_peer_table_mark_bad (table, LOW));
  ck_assert (kith_peer_table_is_bad (table, LOW));
  ck_assert_str_eq (kith_peer_table_elect (table, "http://o/f", NULL, TRUE), SELF);
  /* the origin and nobody are never marked */
  ck_assert (!kith_peer_table_mark_bad (table, "origin"));
  ck_assert (!kith_peer_table_mark_bad (table, NULL));
  ck_assert (!kith_peer_table_is_bad (table, "origin"));
  /* a bad peer is skipped for bad-peer-ms, then forgiven */
  fake_now += (timings.bad_peer_ms - 1) * 1000;
  ck_assert (kith_peer_table_is_bad (table, LOW));
  fake_now += 2000;
  ck_assert (!kith_peer_table_is_bad (table, LOW));
}
END_TEST

START_TEST (test_elect_round_horizon)
{
  g_autoptr (KithPeerTable) table = table_new ();

  kith_peer_table_note_requester (table, "http://o/f", LOW);
  /* within four client waits the requester took part in our round */
  fake_now += 4 * timings.client_wait_ms * 1000;
  ck_assert_str_eq (kith_peer_table_elect (table, "http://o/f", NULL, TRUE), LOW);
  /* after that it is forgotten */
  fake_now += 1000;
  ck_assert_str_eq (kith_peer_table_elect (table, "http://o/f", NULL, TRUE), SELF);
  ck_assert_ptr_null (kith_peer_table_elect (table, "http://o/f", NULL, FALSE));
}
END_TEST

START_TEST (test_downloader_tracked_until_stall_or_complete)
{
  g_autoptr (KithPeerTable) table = table_new ();
  g_autoptr (KithPacket) start = downloading (HIGH, 10, 100);
  g_autoptr (KithPacket) done = downloading (HIGH, 100, 100);
  g_autoptr (KithPacket) complete = kith_packet_new (KITH_PACKET_TYPE_COMPLETE);
  g_autoptr (GHashTable) skip = g_hash_table_new (g_str_hash, g_str_equal);

  ck_assert_ptr_null (kith_peer_table_find_downloader (table, "http://o/f", NULL));
  kith_peer_table_track (table, start);
  ck_assert_str_eq (kith_peer_table_find_downloader (table, "http://o/f", NULL), HIGH);
  g_hash_table_add (skip, (gpointer) HIGH);
  ck_assert_ptr_null (kith_peer_table_find_downloader (table, "http://o/f", skip));
  /* done = total forgets it */
  kith_peer_table_track (table, done);
  ck_assert_ptr_null (kith_peer_table_find_downloader (table, "http://o/f", NULL));
  /* so does "complete" */
  kith_peer_table_track (table, start);
  complete->node = g_strdup (HIGH);
  complete->href = g_strdup ("http://o/f");
  kith_peer_table_track (table, complete);
  ck_assert_ptr_null (kith_peer_table_find_downloader (table, "http://o/f", NULL));
  /* a downloader silent for stall-ms is forgotten */
  kith_peer_table_track (table, start);
  fake_now += timings.stall_ms * 1000;
  ck_assert_str_eq (kith_peer_table_find_downloader (table, "http://o/f", NULL), HIGH);
  fake_now += 1;
  ck_assert_ptr_null (kith_peer_table_find_downloader (table, "http://o/f", NULL));
}
END_TEST

START_TEST (test_requesters_bounded)
{
  g_autoptr (KithPeerTable) table = table_new ();

  /* the lowest id asked first; a flood of ever-new requesters pushes it out, and the
   * table stays within its bound */
  kith_peer_table_note_requester (table, "http://o/f", "0000000000000000");
  for (guint i = 0; i < 10 * KITH_PEER_TABLE_MAX_NODES; i++) {
    g_autofree gchar *node = g_strdup_printf ("%016x", 0x80000000u + i);
    fake_now += 1000;
    kith_peer_table_note_requester (table, "http://o/f", node);
  }
  ck_assert_uint_eq (kith_peer_table_count_requesters (table, "http://o/f"), KITH_PEER_TABLE_MAX_NODES);
  ck_assert_str_ne (kith_peer_table_elect (table, "http://o/f", NULL, FALSE), "0000000000000000");
  /* as many URLs as it can take, and more: the oldest go */
  for (guint i = 0; i < 2 * KITH_PEER_TABLE_MAX_HREFS; i++) {
    g_autofree gchar *href = g_strdup_printf ("http://o/%u", i);
    fake_now += 1000;
    kith_peer_table_note_requester (table, href, HIGH);
  }
  ck_assert_uint_eq (kith_peer_table_count_requesters (table, NULL), KITH_PEER_TABLE_MAX_HREFS);
  ck_assert_uint_eq (kith_peer_table_count_requesters (table, "http://o/0"), 0);
  ck_assert_uint_eq (kith_peer_table_count_requesters (table, "http://o/511"), 1);
}
END_TEST

START_TEST (test_bad_peers_bounded)
{
  g_autoptr (KithPeerTable) table = table_new ();

  for (guint i = 0; i < 3 * KITH_PEER_TABLE_MAX_BAD; i++) {
    g_autofree gchar *node = g_strdup_printf ("%016x", i);
    fake_now += 1000;
    ck_assert (kith_peer_table_mark_bad (table, node));
  }
  ck_assert_uint_eq (kith_peer_table_count_bad (table), KITH_PEER_TABLE_MAX_BAD);
  ck_assert (!kith_peer_table_is_bad (table, "0000000000000000"));
  ck_assert (kith_peer_table_is_bad (table, "0000000000000bff"));
}
END_TEST

START_TEST (test_fault_backs_off)
{
  g_autoptr (KithPeerTable) table = table_new ();

  /* a fault is not a ban: 2 s, doubling, at most 5 min, forgotten at the next delivery */
  ck_assert_uint_eq (kith_peer_table_back_off (table, LOW), KITH_PEER_TABLE_BACKOFF_FIRST_MS);
  ck_assert (kith_peer_table_is_backed_off (table, LOW));
  ck_assert (!kith_peer_table_is_bad (table, LOW));
  ck_assert (!kith_peer_table_is_usable (table, LOW));
  kith_peer_table_note_requester (table, "http://o/f", LOW);
  ck_assert_str_eq (kith_peer_table_elect (table, "http://o/f", NULL, TRUE), SELF);
  fake_now += KITH_PEER_TABLE_BACKOFF_FIRST_MS * 1000;
  ck_assert (kith_peer_table_is_usable (table, LOW));
  ck_assert_uint_eq (kith_peer_table_back_off (table, LOW), 2 * KITH_PEER_TABLE_BACKOFF_FIRST_MS);
  for (guint i = 0; i < 20; i++)
    kith_peer_table_back_off (table, LOW);
  ck_assert_uint_eq (kith_peer_table_back_off (table, LOW), KITH_PEER_TABLE_BACKOFF_MAX_MS);
  kith_peer_table_forgive (table, LOW);
  ck_assert (kith_peer_table_is_usable (table, LOW));
  ck_assert_uint_eq (kith_peer_table_back_off (table, LOW), KITH_PEER_TABLE_BACKOFF_FIRST_MS);
  ck_assert_uint_eq (kith_peer_table_back_off (table, "origin"), 0);
}
END_TEST


static KithPacket *
complete (const gchar *node, const gchar *href)
{
  KithPacket *packet = kith_packet_new (KITH_PACKET_TYPE_COMPLETE);

  packet->node = g_strdup (node);
  packet->href = g_strdup (href);
  return packet;
}

static gboolean
holders_contain (GPtrArray *holders, const gchar *node)
{
  for (guint i = 0; i < holders->len; i++) {
    if (g_strcmp0 (g_ptr_array_index (holders, i), node) == 0)
      return TRUE;
  }
  return FALSE;
}

START_TEST (test_holders_learned_filtered_aged)
{
  g_autoptr (KithPeerTable) table = table_new ();
  g_autoptr (KithPacket) done = complete (LOW, "http://o/f");
  g_autoptr (GHashTable) skip = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) holders = NULL;

  /* "complete" makes its sender a holder; ourselves and "origin" never are */
  kith_peer_table_track (table, done);
  kith_peer_table_note_holder (table, "http://o/f", HIGH);
  kith_peer_table_note_holder (table, "http://o/f", SELF);
  kith_peer_table_note_holder (table, "http://o/f", "origin");
  ck_assert_uint_eq (kith_peer_table_count_holders (table, "http://o/f"), 2);
  ck_assert_uint_eq (kith_peer_table_count_holders (table, "http://o/other"), 0);
  /* skipped and bad peers are left out when only usable ones are asked for */
  g_hash_table_add (skip, (gpointer) HIGH);
  holders = kith_peer_table_get_holders (table, "http://o/f", skip, TRUE);
  ck_assert_uint_eq (holders->len, 1);
  ck_assert (holders_contain (holders, LOW));
  g_clear_pointer (&holders, g_ptr_array_unref);
  ck_assert (kith_peer_table_mark_bad (table, LOW));
  holders = kith_peer_table_get_holders (table, "http://o/f", skip, TRUE);
  ck_assert_uint_eq (holders->len, 0);
  g_clear_pointer (&holders, g_ptr_array_unref);
  holders = kith_peer_table_get_holders (table, "http://o/f", NULL, FALSE);
  ck_assert_uint_eq (holders->len, 2);
  g_clear_pointer (&holders, g_ptr_array_unref);
  /* one that did not deliver is forgotten */
  kith_peer_table_forget_holder (table, "http://o/f", LOW);
  ck_assert_uint_eq (kith_peer_table_count_holders (table, "http://o/f"), 1);
  /* and one not heard of again ages out */
  fake_now += (gint64) KITH_PEER_TABLE_HOLDER_AGE_MS * 1000 + 1;
  holders = kith_peer_table_get_holders (table, "http://o/f", NULL, FALSE);
  ck_assert_uint_eq (holders->len, 0);
}
END_TEST

START_TEST (test_holders_bounded)
{
  g_autoptr (KithPeerTable) table = table_new ();

  /* a flood of made-up holders and URLs stays within the bounds */
  for (guint i = 0; i < 4 * KITH_PEER_TABLE_MAX_HOLDERS; i++) {
    g_autofree gchar *node = g_strdup_printf ("%032x", i);
    fake_now++;
    kith_peer_table_note_holder (table, "http://o/f", node);
  }
  ck_assert_uint_eq (kith_peer_table_count_holders (table, "http://o/f"), KITH_PEER_TABLE_MAX_HOLDERS);
  for (guint i = 0; i < 2 * KITH_PEER_TABLE_MAX_HOLDER_HREFS; i++) {
    g_autofree gchar *href = g_strdup_printf ("http://o/%u", i);
    fake_now++;
    kith_peer_table_note_holder (table, href, LOW);
  }
  ck_assert_uint_eq (kith_peer_table_count_holders (table, NULL), KITH_PEER_TABLE_MAX_HOLDER_HREFS);
  /* the newest are kept */
  ck_assert_uint_eq (kith_peer_table_count_holders (table, "http://o/1023"), 1);
}
END_TEST

#define N_HOLDERS 20

/* The holder ranked first for request @id of SELF, among @holders. */
static const gchar *
top_of (GPtrArray *holders, guint32 id)
{
  return kith_reply_rank_first (SELF, id, holders);
}

/* Where a node's packets came from: the last address wins, never our own, at most
 * KITH_PEER_TABLE_MAX_ADDRESSES nodes (the one heard of longest ago goes). */
START_TEST (test_addresses_bounded)
{
  g_autoptr (KithPeerTable) table = table_new ();
  g_autoptr (GSocketAddress) first = g_inet_socket_address_new_from_string ("10.0.0.1", 4000);
  g_autoptr (GSocketAddress) second = g_inet_socket_address_new_from_string ("10.0.0.2", 4001);

  ck_assert_ptr_null (kith_peer_table_get_address (table, LOW));
  kith_peer_table_note_address (table, LOW, first);
  kith_peer_table_note_address (table, SELF, first);
  ck_assert_ptr_null (kith_peer_table_get_address (table, SELF));
  fake_now += 1000;
  kith_peer_table_note_address (table, LOW, second);
  ck_assert (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (kith_peer_table_get_address (table, LOW))) == 4001);
  for (guint i = 0; i < KITH_PEER_TABLE_MAX_ADDRESSES; i++) {
    g_autofree gchar *node = g_strdup_printf ("%016x", i);
    fake_now += 1000;
    kith_peer_table_note_address (table, node, first);
  }
  /* LOW was heard of longest ago: gone; the newest stays */
  ck_assert_ptr_null (kith_peer_table_get_address (table, LOW));
  ck_assert_ptr_nonnull (kith_peer_table_get_address (table, "00000000000003ff"));
}
END_TEST

START_TEST (test_reply_rank_order_and_spread)
{
  g_autoptr (GPtrArray) holders = g_ptr_array_new_with_free_func (g_free);
  guint first[N_HOLDERS] = { 0 };
  const guint requests = 4000;

  for (guint h = 0; h < N_HOLDERS; h++)
    g_ptr_array_add (holders, g_strdup_printf ("%032x", 0xabc000 + h * 7));
  for (guint32 id = 1; id <= requests; id++) {
    gboolean seen[N_HOLDERS] = { FALSE };
    const gchar *top = kith_reply_rank_first (SELF, id, holders);
    for (guint h = 0; h < N_HOLDERS; h++) {
      const gchar *node = g_ptr_array_index (holders, h);
      /* every holder computes its own rank, knowing all the others: a permutation */
      guint rank = kith_reply_rank_of (SELF, id, node, NULL, holders);
      ck_assert_uint_lt (rank, N_HOLDERS);
      ck_assert (!seen[rank]);
      seen[rank] = TRUE;
      if (rank == 0) {
        ck_assert_str_eq (node, top); /* the requester's hint is the holders' first */
        first[h]++;
      }
      /* hinted, one goes first; hinting another puts it before everyone */
      ck_assert_uint_eq (kith_reply_rank_of (SELF, id, node, node, holders), 0);
      if (g_strcmp0 (node, top) != 0)
        ck_assert_uint_ge (kith_reply_rank_of (SELF, id, node, top, holders), 1);
    }
  }
  /* each holder goes first about requests / N_HOLDERS = 200 times */
  for (guint h = 0; h < N_HOLDERS; h++)
    ck_assert_msg (first[h] > 130 && first[h] < 270, "holder %u first %u times of %u", h, first[h], requests);
  /* the requester itself, still listed as a holder, does not count */
  for (guint32 id = 1; id <= 64; id++) {
    g_autofree gchar *top = g_strdup (top_of (holders, id));
    g_ptr_array_add (holders, g_strdup (SELF));
    ck_assert_uint_eq (kith_reply_rank_of (SELF, id, top, NULL, holders), 0);
    g_ptr_array_remove_index (holders, holders->len - 1);
  }
  /* another requester, the same id: another order */
  ck_assert (kith_reply_rank_score (LOW, 1, "a") != kith_reply_rank_score (HIGH, 1, "a"));
  ck_assert_ptr_null (kith_reply_rank_first (SELF, 1, NULL));
}
END_TEST

START_TEST (test_rate_limit)
{
  g_autoptr (KithRateLimit) limit = kith_rate_limit_new (10, 5, 4);
  gint64 now = 1000 * G_USEC_PER_SEC;
  guint allowed = 0;

  /* a burst of 5, then 10 per second */
  for (guint i = 0; i < 100; i++)
    allowed += kith_rate_limit_take (limit, "127.0.0.9", now);
  ck_assert_uint_eq (allowed, 5);
  now += G_USEC_PER_SEC / 2;
  allowed = 0;
  for (guint i = 0; i < 100; i++)
    allowed += kith_rate_limit_take (limit, "127.0.0.9", now);
  ck_assert_uint_eq (allowed, 5);
  /* a refunded token (a reply the requester took) can be spent again, once */
  ck_assert (!kith_rate_limit_take (limit, "127.0.0.9", now));
  kith_rate_limit_refund (limit, "127.0.0.9", now);
  ck_assert (kith_rate_limit_take (limit, "127.0.0.9", now));
  ck_assert (!kith_rate_limit_take (limit, "127.0.0.9", now));
  /* never beyond the burst, and nothing for an address never seen */
  for (guint i = 0; i < 100; i++)
    kith_rate_limit_refund (limit, "127.0.0.9", now);
  allowed = 0;
  for (guint i = 0; i < 100; i++)
    allowed += kith_rate_limit_take (limit, "127.0.0.9", now);
  ck_assert_uint_eq (allowed, 5);
  kith_rate_limit_refund (limit, "127.0.0.7", now);
  /* other addresses have their own bucket; the table keeps the 4 used last */
  ck_assert (kith_rate_limit_take (limit, "127.0.0.8", now));
  for (guint i = 0; i < 10; i++) {
    g_autofree gchar *key = g_strdup_printf ("10.0.0.%u", i);
    now += 1;
    ck_assert (kith_rate_limit_take (limit, key, now));
  }
  ck_assert_uint_eq (kith_rate_limit_get_size (limit), 4);
}
END_TEST

static Suite *
peer_table_suite (void)
{
  Suite *suite = suite_create ("peer-table");
  TCase *tc = tcase_create ("peer-table");

  tcase_add_test (tc, test_elect_lowest_requester);
  tcase_add_test (tc, test_elect_skip_and_bad);
  tcase_add_test (tc, test_elect_round_horizon);
  tcase_add_test (tc, test_downloader_tracked_until_stall_or_complete);
  tcase_add_test (tc, test_requesters_bounded);
  tcase_add_test (tc, test_bad_peers_bounded);
  tcase_add_test (tc, test_fault_backs_off);
  tcase_add_test (tc, test_rate_limit);
  tcase_add_test (tc, test_holders_learned_filtered_aged);
  tcase_add_test (tc, test_holders_bounded);
  tcase_add_test (tc, test_addresses_bounded);
  tcase_add_test (tc, test_reply_rank_order_and_spread);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (void)
{
  return kith_test_run_suite (peer_table_suite ());
}
