/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-hostile-lan.c — real agents against an attacker on the same LAN
 * (tests/kith-lan-attacker.c, its own process): poisoned copies, SSRF and file:// aliases,
 * endless bodies. Each case ends with the origin's bytes, or a clear refusal. */
#include "kith-dbus-generated.h"
#include "kith-test-attacker.h"
#include "kith-test-node.h"
#include "kith-test-backend.h"
#include "kith-test-origin.h"

#include <check.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>
#include <unistd.h>

#include "kith-test-suite.h"

static guint16 test_port;

/* ---- the cases ---- */

/* The alias points at an internal URL of another host: it is never fetched. */
START_TEST (test_ssrf_alias)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (KithTestOrigin) internal = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (40 * 1024, 21);
  g_autoptr (GBytes) secret = kith_test_make_content (1000, 22);
  g_autofree gchar *url = kith_test_origin_url (origin, "/f.cab");
  g_autofree gchar *target = kith_test_origin_url (internal, "/secret");
  g_autofree gchar *source = NULL;
  g_autoptr (KithTestNode) victim = kith_test_node_start_peering (test_port, KITH_TEST_MEET_THE_ATTACKER);
  g_autoptr (KithTestAttacker) hostile = NULL;

  kith_test_origin_add (origin, "/f.cab", content, 0);
  kith_test_origin_add (internal, "/secret", secret, 0);
  hostile = kith_test_attacker_spawn (test_port, "alias", target, NULL);
  source = kith_test_fetch_sync (victim, url, NULL, FALSE, content);
  ck_assert_str_eq (source, "origin");
  ck_assert_uint_eq (kith_test_origin_get_requests (internal, "/secret"), 0);
  ck_assert (kith_test_node_peering_counter (victim, "aliases-dropped", "reason=\"path\"") >= 1);
  kith_test_attacker_stop (hostile);
}
END_TEST

/* A file:// alias is refused before the HTTP library sees it (no CRITICAL: the agents
 * run with G_DEBUG=fatal-criticals, so one would kill the victim). */
START_TEST (test_file_alias)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (40 * 1024, 23);
  g_autofree gchar *url = kith_test_origin_url (origin, "/g.cab");
  g_autofree gchar *sha = kith_test_sha256 (content);
  g_autofree gchar *source = NULL;
  g_autofree gchar *log = NULL;
  g_autoptr (KithTestNode) victim = kith_test_node_start_peering (test_port, KITH_TEST_MEET_THE_ATTACKER);
  g_autoptr (KithTestAttacker) hostile = NULL;

  kith_test_origin_add (origin, "/g.cab", content, 0);
  hostile = kith_test_attacker_spawn (test_port, "alias", "file:///etc/passwd", NULL);
  /* with the expected hash too: the alias is refused whatever the hash */
  source = kith_test_fetch_sync (victim, url, sha, FALSE, content);
  ck_assert_str_eq (source, "origin");
  ck_assert (kith_test_node_peering_counter (victim, "aliases-dropped", "reason=\"scheme\"") >= 1);
  ck_assert_uint_eq (kith_test_node_peering_status (victim, "bad-peers"), 0);
  log = kith_test_agent_get_log (victim->agent);
  ck_assert_msg (strstr (log, "CRITICAL") == NULL, "%s", log);
  kith_test_attacker_stop (hostile);
}
END_TEST

/* A peer promises 50,000 bytes (with the right hash) and streams 300 MB: the download stops
 * at the promise; the fetch ends with the origin's bytes. */
START_TEST (test_stream_cut_at_promised_size)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (50000, 24);
  g_autofree gchar *url = kith_test_origin_url (origin, "/h.cab");
  g_autofree gchar *sha = kith_test_sha256 (content);
  g_autoptr (KithTestNode) victim = kith_test_node_start_peering (test_port, KITH_TEST_MEET_THE_ATTACKER);
  g_autoptr (KithTestFetch) fetch = NULL;
  g_autoptr (KithTestAttacker) hostile = NULL;
  guint64 sent;

  kith_test_origin_add (origin, "/h.cab", content, 0);
  hostile = kith_test_attacker_spawn (test_port, "stream", "50000", sha);
  fetch = kith_test_fetch_start (victim, url, sha, 50000, FALSE);
  ck_assert_str_eq (kith_test_fetch_wait_done (fetch, content, 30000), "origin");
  ck_assert_uint_le (fetch->max_done, 50000);
  ck_assert_uint_eq (kith_test_node_peering_status (victim, "bad-peers"), 1);
  ck_assert_uint_eq (kith_test_node_peering_status (victim, "cache-bytes"), 50000);
  sent = kith_test_attacker_stop (hostile);
  /* what it got out before we hung up: the promise plus what socket buffers hold */
  ck_assert_uint_lt (sent, 64ull * 1024 * 1024);
}
END_TEST

/* GET @path on @node's HTTP server; returns the status. */
static guint
http_status (KithTestNode *node, const gchar *path)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree gchar *url = g_strconcat (kith_test_agent_get_http_url (node->agent), path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GBytes) body G_GNUC_UNUSED = soup_session_send_and_read (session, msg, NULL, NULL);

  return soup_message_get_status (msg);
}

/* The victim keeps neither the attacker's bytes nor serves them; @content is what it holds. */
static void
assert_not_poisoned (KithTestNode *node, KithTestAttacker *hostile, GBytes *content)
{
  g_autofree gchar *poison = g_strdup_printf ("/alias/%s", hostile->sha256);
  g_autofree gchar *sha = kith_test_sha256 (content);
  g_autofree gchar *good = g_strdup_printf ("/alias/%s", sha);

  ck_assert_uint_eq (http_status (node, poison), 404);
  ck_assert_uint_eq (kith_test_node_peering_status (node, "cache-bytes"), g_bytes_get_size (content));
  /* its own copy came from the origin and no peer vouched for it: it keeps it, serves it
   * to peers that hold the hash */
  ck_assert_uint_eq (http_status (node, good), 200);
}

/* `kith fetch URL` with no hash, the origin stating none, while an attacker answers "I have"
 * first with its own alias and the sha256 of its own bytes: the victim takes the origin's
 * bytes, and so does the next node, which asks the LAN after it. The victims of this case
 * and of the next two wait for the attacker's answer (KITH_TEST_MEET_THE_ATTACKER): one that
 * came after they had gone to the origin would let the case pass without the poison offered. */
START_TEST (test_poisoned_answer_without_hash)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (64 * 1024, 31);
  g_autofree gchar *url = kith_test_origin_url (origin, "/p.cab");
  g_autofree gchar *second = NULL;
  g_autoptr (KithTestNode) victim = kith_test_node_start_peering (test_port, KITH_TEST_MEET_THE_ATTACKER);
  g_autoptr (KithTestNode) next = kith_test_node_start_peering (test_port, NULL);
  g_autoptr (KithTestAttacker) hostile = NULL;

  kith_test_origin_set_digest (origin, FALSE);
  kith_test_origin_add (origin, "/p.cab", content, 0);
  hostile = kith_test_attacker_spawn (test_port, "have", "65536", NULL);
  /* the victim's user runs `kith fetch URL -o FILE`, no --sha256 */
  {
    g_autofree gchar *dest = g_build_filename (kith_test_agent_get_dir (victim->agent), "p.cab", NULL);
    g_autofree gchar *out = NULL;
    g_autofree gchar *err = NULL;
    g_autofree gchar *data = NULL;
    gsize len = 0;
    const gchar *args[] = { "--json", "fetch", url, "-o", dest, NULL };
    gint rc = kith_test_run_cli (victim->agent, args, NULL, &out, &err);

    ck_assert_msg (rc == 0, "kith fetch: rc %d: %s", rc, err);
    ck_assert_msg (strstr (out, "\"source\" : \"origin\"") != NULL || strstr (out, "\"source\":\"origin\"") != NULL,
                   "not from the origin: %s", out);
    ck_assert (g_file_get_contents (dest, &data, &len, NULL));
    ck_assert_uint_eq (len, g_bytes_get_size (content));
    ck_assert_msg (memcmp (data, g_bytes_get_data (content, NULL), len) == 0, "not the origin's bytes");
  }
  second = kith_test_fetch_sync (next, url, NULL, FALSE, content);
  ck_assert_str_eq (second, "origin");
  assert_not_poisoned (victim, hostile, content);
  assert_not_poisoned (next, hostile, content);
  kith_test_attacker_stop (hostile);
}
END_TEST

/* The same with the origin stating its digest: the hash is trusted, the poison refused
 * before a byte is read, and the second node takes the victim's copy. */
START_TEST (test_poisoned_answer_origin_digest)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (64 * 1024, 32);
  g_autofree gchar *url = kith_test_origin_url (origin, "/q.cab");
  g_autofree gchar *first = NULL;
  g_autofree gchar *second = NULL;
  g_autoptr (KithTestNode) victim = kith_test_node_start_peering (test_port, KITH_TEST_MEET_THE_ATTACKER);
  g_autoptr (KithTestNode) next = kith_test_node_start_peering (test_port, NULL);
  g_autoptr (KithTestAttacker) hostile = NULL;

  kith_test_origin_add (origin, "/q.cab", content, 0);
  hostile = kith_test_attacker_spawn (test_port, "have", "65536", NULL);
  first = kith_test_fetch_sync (victim, url, NULL, FALSE, content);
  ck_assert_str_eq (first, "origin");
  second = kith_test_fetch_sync (next, url, NULL, FALSE, content);
  ck_assert_str_eq (second, kith_test_agent_get_node_id (victim->agent));
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/q.cab"), 1);
  assert_not_poisoned (victim, hostile, content);
  assert_not_poisoned (next, hostile, content);
  ck_assert_uint_eq (kith_test_attacker_stop (hostile), 0); /* nobody fetched its bytes */
}
END_TEST

/* A bare "complete" (no request id) broadcast every 50 ms for the URL, naming the
 * attacker's copy. */
START_TEST (test_bare_complete_poison)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (64 * 1024, 33);
  g_autofree gchar *url = kith_test_origin_url (origin, "/c.cab");
  g_autofree gchar *source = NULL;
  g_autoptr (KithTestNode) victim = kith_test_node_start_peering (test_port, KITH_TEST_MEET_THE_ATTACKER);
  g_autoptr (KithTestAttacker) hostile = NULL;

  kith_test_origin_set_digest (origin, FALSE);
  kith_test_origin_add (origin, "/c.cab", content, 0);
  hostile = kith_test_attacker_spawn (test_port, "complete", url, NULL);
  source = kith_test_fetch_sync (victim, url, NULL, FALSE, content);
  ck_assert_str_eq (source, "origin");
  assert_not_poisoned (victim, hostile, content);
  ck_assert_uint_eq (kith_test_attacker_stop (hostile), 0);
}
END_TEST

/* A boot storm: three nodes miss the same URL at once while the attacker broadcasts its
 * "complete": no node takes the poison. */
START_TEST (test_boot_storm_with_poisoner)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (200 * 1024, 34);
  g_autofree gchar *url = kith_test_origin_url (origin, "/storm.cab");
  KithTestNode *nodes[3];
  KithTestFetch *fetches[3];
  g_autoptr (KithTestAttacker) hostile = NULL;

  kith_test_origin_set_digest (origin, FALSE);
  kith_test_origin_add (origin, "/storm.cab", content, 0);
  hostile = kith_test_attacker_spawn (test_port, "complete", url, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++)
    nodes[i] = kith_test_node_start_peering (test_port, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++)
    fetches[i] = kith_test_fetch_start (nodes[i], url, NULL, 0, FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++) {
    ck_assert_str_ne (kith_test_fetch_wait_done (fetches[i], content, 30000),
                      "bad0bad0bad0bad0bad0bad0bad0bad0");
    assert_not_poisoned (nodes[i], hostile, content);
  }
  ck_assert_uint_ge (kith_test_origin_get_requests (origin, "/storm.cab"), 1);
  ck_assert_uint_eq (kith_test_attacker_stop (hostile), 0);
  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++) {
    kith_test_fetch_free (fetches[i]);
    kith_test_node_free (nodes[i]);
  }
}
END_TEST

static gboolean
log_says_enrolled (gpointer user_data)
{
  g_autofree gchar *log = kith_test_agent_get_log (((KithTestNode *) user_data)->agent);
  return strstr (log, "enrolled: node certificate") != NULL;
}

/* A node enrolled with the vendor backend (certificate from kith-backend) vouches for the
 * copy it fetched from the origin: another node takes it with no hash at all, while the
 * attacker's unproven answer is left out. */
START_TEST (test_enrolled_peer_accepted_without_hash)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (64 * 1024, 35);
  g_autofree gchar *url = kith_test_origin_url (origin, "/e.cab");
  g_autofree gchar *token_path = NULL;
  g_autofree gchar *token = NULL;
  g_autofree gchar *peering = kith_test_node_peering_config (test_port, NULL);
  g_autofree gchar *enrolled_conf = NULL;
  g_autofree gchar *plain_conf = NULL;
  g_autofree gchar *first = NULL;
  g_autofree gchar *second = NULL;
  g_autoptr (KithTestNode) holder = NULL;
  g_autoptr (KithTestNode) asker = NULL;
  g_autoptr (KithTestAttacker) hostile = NULL;

  kith_test_backend_serve (backend, NULL);
  token_path = g_build_filename (kith_test_backend_get_dir (backend), "enrollment-token", NULL);
  ck_assert (g_file_get_contents (token_path, &token, NULL, NULL));
  g_strstrip (token);
  enrolled_conf = g_strdup_printf ("backend-url=%s\ntrust-anchor=%s\nenrollment-token=%s\n\n%s",
                                   kith_test_backend_get_url (backend), kith_test_backend_get_ca (backend),
                                   token, peering);
  plain_conf = g_strdup_printf ("trust-anchor=%s\n\n%s", kith_test_backend_get_ca (backend), peering);
  kith_test_origin_set_digest (origin, FALSE);
  kith_test_origin_add (origin, "/e.cab", content, 0);
  holder = kith_test_node_start_new ("peering;upload", enrolled_conf);
  asker = kith_test_node_start_new ("peering", plain_conf);
  ck_assert_msg (kith_test_wait_until (log_says_enrolled, holder, 20000), "the holder did not enroll");
  first = kith_test_fetch_sync (holder, url, NULL, FALSE, content);
  ck_assert_str_eq (first, "origin");
  hostile = kith_test_attacker_spawn (test_port, "have", "65536", NULL);
  second = kith_test_fetch_sync (asker, url, NULL, FALSE, content);
  ck_assert_str_eq (second, kith_test_agent_get_node_id (holder->agent));
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/e.cab"), 1);
  assert_not_poisoned (asker, hostile, content);
  kith_test_attacker_stop (hostile);
}
END_TEST

static Suite *
hostile_suite (void)
{
  Suite *suite = suite_create ("hostile-lan");
  TCase *tc = tcase_create ("hostile-lan");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_ssrf_alias);
  tcase_add_test (tc, test_file_alias);
  tcase_add_test (tc, test_stream_cut_at_promised_size);
  tcase_add_test (tc, test_poisoned_answer_without_hash);
  tcase_add_test (tc, test_poisoned_answer_origin_digest);
  tcase_add_test (tc, test_bare_complete_poison);
  tcase_add_test (tc, test_boot_storm_with_poisoner);
  tcase_add_test (tc, test_enrolled_peer_accepted_without_hash);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (void)
{
  test_port = g_random_int_range (20000, 60000);
  return kith_test_run_suite (hostile_suite ());
}
