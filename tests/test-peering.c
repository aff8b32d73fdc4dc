/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-peering.c — the peering service across real agent processes on loopback:
 * one origin download per URL, "I found" cancels other holders, waiting for a
 * peer's download, boot storms, bad peers, restarts, garbage, ranges, eviction */
#include "kith-dbus-generated.h"
#include "kith-test-attacker.h"
#include "kith-test-node.h"
#include "kith-test-origin.h"

#include <check.h>

#include "kith-test-suite.h"
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <stdlib.h>
#include <string.h>

static guint16 test_port;

START_TEST (test_origin_once_then_peers)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (300 * 1024, 1);
  g_autofree gchar *url = kith_test_origin_url (origin, "/dat/avdat-1.cab");
  g_autoptr (KithTestNode) a = kith_test_node_start_peering (test_port, NULL);
  g_autoptr (KithTestNode) b = kith_test_node_start_peering (test_port, NULL);
  g_autoptr (KithTestNode) c = kith_test_node_start_peering (test_port, NULL);
  g_autofree gchar *source_a = NULL;
  g_autofree gchar *source_b = NULL;
  g_autofree gchar *source_c = NULL;

  kith_test_origin_add (origin, "/dat/avdat-1.cab", content, 0);
  source_a = kith_test_fetch_sync (a, url, NULL, FALSE, content);
  ck_assert_str_eq (source_a, "origin");
  source_b = kith_test_fetch_sync (b, url, NULL, FALSE, content);
  ck_assert_str_eq (source_b, kith_test_agent_get_node_id (a->agent));
  source_c = kith_test_fetch_sync (c, url, NULL, FALSE, content);
  /* C may be served by A or by B: B serves what it fetched */
  ck_assert (g_strcmp0 (source_c, kith_test_agent_get_node_id (a->agent)) == 0 ||
             g_strcmp0 (source_c, kith_test_agent_get_node_id (b->agent)) == 0);
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/dat/avdat-1.cab"), 1);
  ck_assert_uint_eq (kith_test_node_peering_status (a, "misses"), 1);
  ck_assert_uint_eq (kith_test_node_peering_status (b, "hits"), 1);
  ck_assert_uint_eq (kith_test_node_peering_status (b, "bytes-from-peers"), g_bytes_get_size (content));
}
END_TEST


#define SLOW_TIMINGS "max-delay-ms=1000\nclient-wait-ms=1200\n"

START_TEST (test_found_cancels_other_holders)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (200 * 1024, 2);
  g_autofree gchar *url = kith_test_origin_url (origin, "/f");
  KithTestNode *holders[3];
  g_autoptr (KithTestNode) d = kith_test_node_start_peering (test_port, SLOW_TIMINGS);
  gdouble responses_before = 0, responses_after = 0;
  guint64 served_before[3], serving = 0;
  g_autofree gchar *source = NULL;

  kith_test_origin_add (origin, "/f", content, 0);
  for (guint i = 0; i < 3; i++) {
    g_autofree gchar *src = NULL;
    holders[i] = kith_test_node_start_peering (test_port, SLOW_TIMINGS);
    src = kith_test_fetch_sync (holders[i], url, NULL, FALSE, content);
  }
  for (guint i = 0; i < 3; i++) {
    responses_before += kith_test_node_peering_counter (holders[i], "packets-out", "type=\"response\"");
    served_before[i] = kith_test_node_peering_status (holders[i], "bytes-served");
  }
  source = kith_test_fetch_sync (d, url, NULL, FALSE, content);
  for (guint i = 0; i < 3; i++) {
    responses_after += kith_test_node_peering_counter (holders[i], "packets-out", "type=\"response\"");
    if (kith_test_node_peering_status (holders[i], "bytes-served") > served_before[i])
      serving++;
    /* nothing left pending: the others were cancelled by "I found" */
    ck_assert_uint_eq (kith_test_node_peering_status (holders[i], "replies-pending") , 0);
  }
  ck_assert_uint_eq (serving, 1);          /* one transfer */
  ck_assert (responses_after - responses_before < 3); /* not everyone answered */
  ck_assert (responses_after - responses_before >= 1);
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/f"), 1);
  for (guint i = 0; i < 3; i++)
    kith_test_node_free (holders[i]);
}
END_TEST

typedef struct {
  KithTestFetch *fetch;
  gboolean waited;        /* seen in waiting-for-peer */
  guint64 progress_seen;  /* BytesDone while waiting */
  gchar *waited_for;
} Watch;

static void
watch_notify (GObject *proxy, GParamSpec *pspec, Watch *watch)
{
  KithDbusTransfer1 *transfer = KITH_DBUS_TRANSFER1 (proxy);
  if (g_strcmp0 (kith_dbus_transfer1_get_state (transfer), "waiting-for-peer") != 0)
    return;
  watch->waited = TRUE;
  watch->progress_seen = MAX (watch->progress_seen, kith_dbus_transfer1_get_bytes_done (transfer));
  g_free (watch->waited_for);
  watch->waited_for = g_strdup (kith_dbus_transfer1_get_source (transfer));
}

static gboolean
fetch_has_origin_bytes (gpointer user_data)
{
  KithTestFetch *fetch = user_data;
  return g_strcmp0 (kith_dbus_transfer1_get_state (fetch->proxy), "from-origin") == 0 &&
         kith_dbus_transfer1_get_bytes_done (fetch->proxy) > 0;
}

static gboolean
count_packets_dropped (gpointer user_data)
{
  return kith_test_node_peering_counter (user_data, "packets-dropped", NULL) >= 100;
}

/* FIG. 7 (docs/architecture.md): B asks while A is still downloading: B waits, follows A's progress, gets it
 * from A. A flood of garbage packets meanwhile changes nothing. B has no hash it trusts (the origin
 * states none; trust=lan), so it waits for "complete" instead of streaming (test-stream.c). */
START_TEST (test_wait_for_downloading_peer)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (600 * 1024, 3);
  g_autofree gchar *url = kith_test_origin_url (origin, "/slow");
  g_autoptr (KithTestNode) a = kith_test_node_start_peering (test_port, NULL);
  g_autoptr (KithTestNode) b = kith_test_node_start_peering (test_port, "trust=lan\n");
  g_autoptr (KithTestFetch) fa = NULL;
  g_autoptr (KithTestFetch) fb = NULL;
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GSocketAddress) broadcast = NULL;
  Watch watch = { 0 };

  kith_test_origin_add (origin, "/slow", content, 400 * 1024);
  kith_test_origin_set_digest (origin, FALSE);
  fa = kith_test_fetch_start (a, url, NULL, 0, FALSE);
  ck_assert (kith_test_wait_until (fetch_has_origin_bytes, fa, 10000));
  fb = kith_test_fetch_start (b, url, NULL, 0, FALSE);
  watch.fetch = fb;
  g_signal_connect (fb->proxy, "notify", G_CALLBACK (watch_notify), &watch);

  /* garbage on the peering port while both transfers run */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
  g_socket_set_broadcast (socket, TRUE);
  broadcast = g_inet_socket_address_new_from_string ("127.255.255.255", test_port);
  for (guint i = 0; i < 500; i++) {
    gchar junk[64];
    gsize len = g_snprintf (junk, sizeof junk, i % 2 ? "<service type='request' %u" : "\xff\xfe%u", i);
    g_socket_send_to (socket, broadcast, junk, len, NULL, NULL);
  }

  ck_assert_str_eq (kith_test_fetch_wait_done (fa, content, 30000), "origin");
  ck_assert_str_eq (kith_test_fetch_wait_done (fb, content, 30000), kith_test_agent_get_node_id (a->agent));
  ck_assert (watch.waited);
  ck_assert_str_eq (watch.waited_for, kith_test_agent_get_node_id (a->agent));
  ck_assert_uint_gt (watch.progress_seen, 0);
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/slow"), 1);
  /* the garbage was counted and dropped; both agents still answer */
  ck_assert (kith_test_wait_until (count_packets_dropped, a, 5000));
  ck_assert (kith_test_node_peering_counter (b, "packets-dropped", NULL) >= 100);
  g_free (watch.waited_for);
}
END_TEST

START_TEST (test_boot_storm)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (500 * 1024, 4);
  g_autofree gchar *url = kith_test_origin_url (origin, "/storm");
  KithTestNode *nodes[5];
  KithTestFetch *fetches[5];
  guint from_origin = 0;

  kith_test_origin_add (origin, "/storm", content, 0);
  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++)
    nodes[i] = kith_test_node_start_peering (test_port, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++)
    fetches[i] = kith_test_fetch_start (nodes[i], url, NULL, 0, FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++) {
    if (g_strcmp0 (kith_test_fetch_wait_done (fetches[i], content, 30000), "origin") == 0)
      from_origin++;
  }
  ck_assert_uint_eq (from_origin, 1);
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/storm"), 1);
  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++) {
    kith_test_fetch_free (fetches[i]);
    kith_test_node_free (nodes[i]);
  }
}
END_TEST

START_TEST (test_restart_still_serves)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (100 * 1024, 5);
  g_autofree gchar *url = kith_test_origin_url (origin, "/keep");
  g_autoptr (KithTestNode) a = kith_test_node_start_peering (test_port, NULL);
  g_autoptr (KithTestNode) b = kith_test_node_start_peering (test_port, NULL);
  g_autofree gchar *first = NULL;
  g_autofree gchar *second = NULL;

  kith_test_origin_add (origin, "/keep", content, 0);
  first = kith_test_fetch_sync (a, url, NULL, FALSE, content);
  kith_test_node_stop (a);
  kith_test_node_start (a);
  /* a restarted store re-hashes its copies before serving them */
  ck_assert (kith_test_wait_until (kith_test_node_cache_verified, a, 10000));
  second = kith_test_fetch_sync (b, url, NULL, FALSE, content);
  ck_assert_str_eq (second, kith_test_agent_get_node_id (a->agent));
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/keep"), 1);
}
END_TEST

START_TEST (test_range_on_alias)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (64 * 1024, 6);
  g_autofree gchar *url = kith_test_origin_url (origin, "/r.bin");
  g_autofree gchar *sha = kith_test_sha256 (content);
  g_autoptr (KithTestNode) a = kith_test_node_start_peering (test_port, NULL);
  g_autofree gchar *source = NULL;
  g_autofree gchar *alias = NULL;
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GBytes) body = NULL;

  kith_test_origin_add (origin, "/r.bin", content, 0);
  source = kith_test_fetch_sync (a, url, NULL, FALSE, content);
  alias = g_strdup_printf ("%s/alias/%s", kith_test_agent_get_http_url (a->agent), sha);
  msg = soup_message_new ("GET", alias);
  soup_message_headers_set_range (soup_message_get_request_headers (msg), 100, 199);
  body = soup_session_send_and_read (session, msg, NULL, NULL);
  ck_assert_uint_eq (soup_message_get_status (msg), 206);
  ck_assert_uint_eq (g_bytes_get_size (body), 100);
  ck_assert (memcmp (g_bytes_get_data (body, NULL), (const guint8 *) g_bytes_get_data (content, NULL) + 100, 100) == 0);
}
END_TEST

START_TEST (test_cache_eviction)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) x = kith_test_make_content (700 * 1024, 7);
  g_autoptr (GBytes) y = kith_test_make_content (700 * 1024, 8);
  g_autofree gchar *url_x = kith_test_origin_url (origin, "/x");
  g_autofree gchar *url_y = kith_test_origin_url (origin, "/y");
  g_autofree gchar *sha_y = kith_test_sha256 (y);
  g_autoptr (KithTestNode) a = kith_test_node_start_peering (test_port, "cache-max-mb=1\n");
  g_autoptr (KithTestNode) b = kith_test_node_start_peering (test_port, NULL);
  g_autofree gchar *s1 = NULL;
  g_autofree gchar *s2 = NULL;
  g_autofree gchar *s3 = NULL;
  g_autoptr (KithTestFetch) miss = NULL;
  g_autoptr (KithTestFetch) hit = NULL;

  kith_test_origin_add (origin, "/x", x, 0);
  kith_test_origin_add (origin, "/y", y, 0);
  s1 = kith_test_fetch_sync (a, url_x, NULL, FALSE, x);
  s2 = kith_test_fetch_sync (a, url_y, NULL, FALSE, y);
  ck_assert_uint_eq (kith_test_node_peering_status (a, "cache-bytes"), g_bytes_get_size (y));
  /* X was evicted: nobody can serve it from cache any more */
  miss = kith_test_fetch_start (b, url_x, NULL, 0, TRUE);
  ck_assert (kith_test_wait_until (kith_test_fetch_is_finished, miss, 10000));
  ck_assert_str_eq (kith_dbus_transfer1_get_state (miss->proxy), "failed");
  ck_assert (g_str_has_prefix (kith_dbus_transfer1_get_error (miss->proxy), "org.kith.Error.NotFound: "));
  /* cached-only cannot ask the origin for its digest: the hash comes from the caller */
  hit = kith_test_fetch_start (b, url_y, sha_y, 0, TRUE);
  s3 = g_strdup (kith_test_fetch_wait_done (hit, y, 30000));
  ck_assert_str_eq (s3, kith_test_agent_get_node_id (a->agent));
}
END_TEST

/* ---- a lying peer (kith-lan-attacker, its own process): answers every "I need" at once
 * and serves bytes that do not match the hash it claims ---- */

START_TEST (test_bad_peer_skipped)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (128 * 1024, 9);
  g_autofree gchar *sha = kith_test_sha256 (content);
  g_autofree gchar *url = kith_test_origin_url (origin, "/honest");
  /* honest holders answer after a random delay up to 300 ms (reply-order=random: b would
   * otherwise name a, which would answer at once); the liar answers at once and wins */
  g_autoptr (KithTestNode) a = kith_test_node_start_peering (test_port,
                                                             "reply-order=random\nmax-delay-ms=300\nclient-wait-ms=400\n");
  g_autoptr (KithTestNode) b = kith_test_node_start_peering (test_port,
                                                             "reply-order=random\nmax-delay-ms=300\nclient-wait-ms=400\n");
  g_autoptr (KithTestAttacker) fake = NULL;
  g_autofree gchar *first = NULL;
  g_autofree gchar *second = NULL;

  kith_test_origin_add (origin, "/honest", content, 0);
  first = kith_test_fetch_sync (a, url, NULL, FALSE, content);
  fake = kith_test_attacker_spawn_liar (test_port, sha, g_bytes_get_size (content));
  second = kith_test_fetch_sync (b, url, NULL, FALSE, content);
  ck_assert_str_eq (second, kith_test_agent_get_node_id (a->agent));
  ck_assert_uint_eq (kith_test_node_peering_status (b, "bad-peers"), 1);
  ck_assert_uint_eq (kith_test_node_peering_status (b, "cache-bytes"), g_bytes_get_size (content));
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/honest"), 1);
  kith_test_attacker_stop (fake);
}
END_TEST
static Suite *
peering_suite (void)
{
  Suite *suite = suite_create ("peering");
  TCase *tc = tcase_create ("peering");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_origin_once_then_peers);
  tcase_add_test (tc, test_found_cancels_other_holders);
  tcase_add_test (tc, test_wait_for_downloading_peer);
  tcase_add_test (tc, test_boot_storm);
  tcase_add_test (tc, test_restart_still_serves);
  tcase_add_test (tc, test_range_on_alias);
  tcase_add_test (tc, test_cache_eviction);
  tcase_add_test (tc, test_bad_peer_skipped);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (int argc, char **argv)
{
  test_port = g_random_int_range (20000, 60000);
  return kith_test_run_suite (peering_suite ());
}
