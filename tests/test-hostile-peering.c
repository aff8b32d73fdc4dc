/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-hostile-peering.c — agents on loopback against a hostile node (kith-lan-attacker, its own
 * process, speaking docs/protocol.md): bounded waits, spoofed "found", amplification, faults
 * that are not lies, Fetch(fd) that never blocks, an alias index that heals */
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
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static guint16 test_port;

/* ---- bounded waits ---- */

/* 5 s from the start, whatever the LAN says (slower builds scale it). */
#define ORIGIN_BOUND_MS 5000

typedef struct {
  KithTestNode *node;
  const gchar *labels;
  gdouble at_least;
} CounterWait;

static gboolean
packets_in_reached (gpointer user_data)
{
  CounterWait *wait = user_data;
  return kith_test_node_peering_counter (wait->node, "packets-in", wait->labels) >= wait->at_least;
}

/* Under the attack @mode (its packets of @labels heard @at_least times first), a fetch of a
 * file only the origin has still ends there within ORIGIN_BOUND_MS, with one origin GET. */
static void
assert_origin_within_bound (const gchar *mode, const gchar *labels, gdouble at_least, guint seed)
{
  g_autofree gchar *path = g_strconcat ("/", mode, NULL);
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (64 * 1024, seed);
  g_autofree gchar *url = kith_test_origin_url (origin, path);
  g_autoptr (KithTestNode) a = kith_test_node_start_peering (test_port, NULL);
  g_autoptr (KithTestAttacker) hostile = NULL;
  CounterWait wait = { a, labels, at_least };
  g_autofree gchar *source = NULL;
  g_autoptr (KithTestFetch) fetch = NULL;
  gint64 elapsed = 0;

  kith_test_origin_add (origin, path, content, 0);
  hostile = kith_test_attacker_spawn (test_port, mode, url, NULL);
  ck_assert (kith_test_wait_until (packets_in_reached, &wait, 5000));
  fetch = kith_test_fetch_start (a, url, NULL, 0, FALSE);
  source = g_strdup (kith_test_fetch_wait_done (fetch, content, 30000));
  elapsed = kith_test_fetch_get_elapsed_ms (fetch);
  ck_assert_str_eq (source, "origin");
  ck_assert_msg (elapsed <= kith_test_timeout_ms (ORIGIN_BOUND_MS), "took %" G_GINT64_FORMAT " ms", elapsed);
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, path), 1);
}

START_TEST (test_request_flood_does_not_hold_election)
{
  /* every 50 ms a new requester with a lower id than ours asks, and never downloads */
  assert_origin_within_bound ("request-flood", "type=\"request\"", 5, 21);
}
END_TEST

START_TEST (test_stuck_downloader_left)
{
  /* "downloading" every second, the same progress each time, never "complete" */
  assert_origin_within_bound ("downloading", "type=\"downloading\"", 1, 22);
}
END_TEST

#define SLOW_REPLIES "max-delay-ms=300\nclient-wait-ms=400\n"

START_TEST (test_spoofed_found_ignored)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (64 * 1024, 23);
  g_autofree gchar *url = kith_test_origin_url (origin, "/spoof");
  g_autofree gchar *sha = kith_test_sha256 (content);
  g_autoptr (KithTestNode) holder = kith_test_node_start_peering (test_port, SLOW_REPLIES);
  g_autoptr (KithTestNode) victim = kith_test_node_start_peering (test_port, SLOW_REPLIES);
  g_autoptr (KithTestAttacker) hostile = NULL;
  g_autofree gchar *first = NULL;
  g_autofree gchar *second = NULL;

  kith_test_origin_add (origin, "/spoof", content, 0);
  first = kith_test_fetch_sync (holder, url, NULL, FALSE, content);
  ck_assert_str_eq (first, "origin");
  /* the hostile node says "I found" in the requester's name for every request */
  hostile = kith_test_attacker_spawn (test_port, "spoof-found", NULL, NULL);
  second = kith_test_fetch_sync (victim, url, sha, FALSE, content);
  ck_assert_str_eq (second, kith_test_agent_get_node_id (holder->agent));
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/spoof"), 1);
}
END_TEST

/* ---- bounded replies ---- */

#define LOW_RATE "reply-rate=5\nreply-burst=10\n"

START_TEST (test_forged_source_not_amplified)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (32 * 1024, 27);
  g_autofree gchar *sha = kith_test_sha256 (content);
  g_autofree gchar *url = kith_test_origin_url (origin, "/amp");
  g_autoptr (KithTestNode) a = kith_test_node_start_peering (test_port, LOW_RATE);
  g_autoptr (KithTestNode) b = kith_test_node_start_peering (test_port, LOW_RATE);
  g_autoptr (KithTestAttacker) hostile = NULL;
  g_autofree gchar *s1 = NULL;
  g_autofree gchar *s2 = NULL;
  g_autofree gchar *line = NULL;
  guint responses = G_MAXUINT;

  kith_test_origin_add (origin, "/amp", content, 0);
  s1 = kith_test_fetch_sync (a, url, NULL, FALSE, content);
  s2 = kith_test_fetch_sync (b, url, sha, FALSE, content);
  /* 200 small requests "from" one address (the attacker's, standing in for a victim's it
   * forged), each from a new node id, to two holders */
  hostile = kith_test_attacker_spawn (test_port, "amplify", url, "200");
  line = kith_test_attacker_read_line (hostile);
  ck_assert_ptr_nonnull (line);
  ck_assert_int_eq (sscanf (line, "responses %u", &responses), 1);
  /* each holder answers at most its burst plus its rate over the 2 s counted (+1 s slack) */
  ck_assert_msg (responses <= 2 * (10 + 5 * 3), "%u responses to 200 requests", responses);
  ck_assert_uint_ge (responses, 1);
  ck_assert_uint_ge (kith_test_node_peering_status (a, "replies-limited") +
                     kith_test_node_peering_status (b, "replies-limited"), 100);
}
END_TEST

/* ---- faults are not misbehaviour ---- */

static gboolean
time_passed (gpointer user_data)
{
  return g_get_monotonic_time () >= *(gint64 *) user_data;
}

START_TEST (test_failed_peer_backed_off_not_banned)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (48 * 1024, 28);
  g_autoptr (GBytes) content2 = kith_test_make_content (48 * 1024, 29);
  g_autofree gchar *sha = kith_test_sha256 (content);
  g_autofree gchar *sha2 = kith_test_sha256 (content2);
  g_autofree gchar *url1 = kith_test_origin_url (origin, "/one");
  g_autofree gchar *url2 = kith_test_origin_url (origin, "/two");
  /* it must meet the peer twice: for /one, and for /two, of which it knows no holder */
  g_autoptr (KithTestNode) victim = kith_test_node_start_peering (test_port, KITH_TEST_MEET_THE_ATTACKER);
  g_autoptr (KithTestAttacker) hostile = NULL;
  g_autofree gchar *first = NULL;
  g_autofree gchar *second = NULL;
  gint64 backoff_over;

  kith_test_origin_add (origin, "/one", content, 0);
  kith_test_origin_add (origin, "/two", content2, 0);
  /* the peer holds both files before it is asked (it fetched each once); its first answer
   * names a port where nobody listens: a fault */
  hostile = kith_test_attacker_spawn (test_port, "dead-then-good", url1, url2);
  first = kith_test_fetch_sync (victim, url1, sha, FALSE, content);
  ck_assert_str_eq (first, "origin");
  ck_assert_uint_eq (kith_test_node_peering_status (victim, "bad-peers"), 0);
  ck_assert_uint_eq (kith_test_node_peering_status (victim, "peer-backoffs"), 1);
  /* after the first back-off (2 s) the peer is asked again, and serves; nothing of ours
   * wakes the loop when the time comes, so it looks again every 50 ms (not the 10 s bound) */
  backoff_over = g_get_monotonic_time () + 2200 * 1000;
  ck_assert (kith_test_poll_until (time_passed, &backoff_over, 10000));
  second = kith_test_fetch_sync (victim, url2, sha2, FALSE, content2);
  ck_assert_str_eq (second, "bad0bad0bad0bad0bad0bad0bad0bad0");
  /* the one GET of /two at the origin is the peer's own */
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/two"), 1);
}
END_TEST

/* ---- Fetch(fd) ---- */

START_TEST (test_fetch_fd_written_from_offset_zero)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (40 * 1024, 24);
  g_autofree gchar *url = kith_test_origin_url (origin, "/offset");
  g_autoptr (KithTestNode) a = kith_test_node_start_peering (test_port, NULL);
  g_autofree gchar *dest = g_build_filename (kith_test_agent_get_dir (a->agent), "offset-XXXXXX", NULL);
  g_autoptr (KithTestFetch) fetch = NULL;
  g_autofree gchar *data = NULL;
  gsize len = 0;
  gint fd = g_mkstemp (dest);

  kith_test_origin_add (origin, "/offset", content, 0);
  ck_assert_int_ge (fd, 0);
  /* the caller's file has old bytes and its position is not 0 */
  ck_assert_int_eq (write (fd, "old bytes, longer than nothing", 30), 30);
  ck_assert_int_eq (lseek (fd, 7, SEEK_SET), 7);
  fetch = kith_test_fetch_start_fd (a, url, NULL, 0, FALSE, fd);
  close (fd);
  kith_test_fetch_wait_done (fetch, NULL, 30000);
  g_assert_true (g_file_get_contents (dest, &data, &len, NULL));
  g_unlink (dest);
  ck_assert_uint_eq (len, g_bytes_get_size (content));
  ck_assert (memcmp (data, g_bytes_get_data (content, NULL), len) == 0);
}
END_TEST

static gboolean
fetch_has_all_bytes (gpointer user_data)
{
  KithTestFetch *fetch = user_data;
  return kith_dbus_transfer1_get_bytes_total (fetch->proxy) > 0 &&
         kith_dbus_transfer1_get_bytes_done (fetch->proxy) == kith_dbus_transfer1_get_bytes_total (fetch->proxy);
}

START_TEST (test_fetch_fd_pipe_never_blocks)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (1024 * 1024, 25);
  g_autofree gchar *url = kith_test_origin_url (origin, "/pipe");
  g_autoptr (KithTestNode) a = kith_test_node_start_peering (test_port, NULL);
  g_autoptr (KithTestFetch) fetch = NULL;
  g_autoptr (GVariant) status = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) got = g_byte_array_new ();
  guint8 buf[65536];
  gint fds[2];
  gssize n;

  kith_test_origin_add (origin, "/pipe", content, 0);
  ck_assert_int_eq (pipe (fds), 0);
  fetch = kith_test_fetch_start_fd (a, url, NULL, 0, FALSE, fds[1]);
  close (fds[1]);
  /* the file is in the store and being copied into a pipe that holds far less of it, which
   * nobody reads yet: the agent still answers */
  ck_assert (kith_test_wait_until (fetch_has_all_bytes, fetch, 30000));
  for (guint i = 0; i < 3; i++) {
    g_clear_pointer (&status, g_variant_unref);
    status = g_dbus_connection_call_sync (a->connection, NULL, "/org/kith/Agent1", "org.kith.Agent1",
                                          "GetStatus", NULL, NULL, G_DBUS_CALL_FLAGS_NONE,
                                          kith_test_timeout_ms (3000), NULL, &error);
    g_assert_no_error (error);
  }
  while ((n = read (fds[0], buf, sizeof buf)) > 0)
    g_byte_array_append (got, buf, n);
  close (fds[0]);
  ck_assert_uint_eq (got->len, g_bytes_get_size (content));
  ck_assert (memcmp (got->data, g_bytes_get_data (content, NULL), got->len) == 0);
  kith_test_fetch_wait_done (fetch, NULL, 30000);
}
END_TEST

/* ---- state that heals ---- */

START_TEST (test_truncated_index_heals)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (80 * 1024, 26);
  g_autofree gchar *sha = kith_test_sha256 (content);
  g_autofree gchar *url = kith_test_origin_url (origin, "/kept");
  g_autoptr (KithTestNode) a = kith_test_node_start_peering (test_port, NULL);
  g_autofree gchar *index = g_build_filename (kith_test_agent_get_dir (a->agent), "state",
                                              "peering-cache", "index.json", NULL);
  g_autofree gchar *first = NULL;
  g_autofree gchar *again = NULL;
  g_autofree gchar *text = NULL;
  gsize len = 0;

  kith_test_origin_add (origin, "/kept", content, 0);
  first = kith_test_fetch_sync (a, url, NULL, FALSE, content);
  ck_assert_str_eq (first, "origin");
  kith_test_node_stop (a);
  /* the index loses its tail (a crash, a full disk): its one record is no longer whole */
  ck_assert (g_file_get_contents (index, &text, &len, NULL));
  ck_assert (g_file_set_contents (index, text, (gssize) (len / 2), NULL));
  kith_test_node_start (a);
  ck_assert (kith_test_wait_until (kith_test_node_cache_verified, a, 10000));
  /* the copy was adopted after its re-hash; its history is unknown (trust "lan", not
   * offered to peers under trust=verified), but a fetch that knows its hash gets it */
  ck_assert_uint_eq (kith_test_node_peering_status (a, "cache-bytes"), g_bytes_get_size (content));
  again = kith_test_fetch_sync (a, url, sha, TRUE, content);
  ck_assert_str_eq (again, "cache");
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/kept"), 1);
}
END_TEST

static Suite *
hostile_peering_suite (void)
{
  Suite *suite = suite_create ("hostile-peering");
  TCase *tc = tcase_create ("hostile-peering");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_request_flood_does_not_hold_election);
  tcase_add_test (tc, test_stuck_downloader_left);
  tcase_add_test (tc, test_spoofed_found_ignored);
  tcase_add_test (tc, test_forged_source_not_amplified);
  tcase_add_test (tc, test_failed_peer_backed_off_not_banned);
  tcase_add_test (tc, test_fetch_fd_written_from_offset_zero);
  tcase_add_test (tc, test_fetch_fd_pipe_never_blocks);
  tcase_add_test (tc, test_truncated_index_heals);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (int argc, char **argv)
{
  test_port = g_random_int_range (20000, 60000);
  return kith_test_run_suite (hostile_peering_suite ());
}
