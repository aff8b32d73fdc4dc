/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-resume.c — a whole-file download from a peer that breaks mid-way is resumed, not
 * started again (docs/protocol.md "Resuming"): real agent processes on loopback and the LAN
 * attacker (tests/kith-lan-attacker.c, its own process) as the source that is cut off a
 * third of the way; the next source — a holder, or the origin — is asked only for the rest,
 * and what it served is counted where it served it */
#include "kith-dbus-generated.h"
#include "kith-test-attacker.h"
#include "kith-test-node.h"
#include "kith-test-origin.h"

#include <check.h>

#include "kith-test-suite.h"

#define RESUME_SIZE (1024 * 1024 + 7)
/* where the attacker's cut modes stop: the first third */
#define RESUME_CUT (RESUME_SIZE / 3)
#define ATTACKER_NODE "bad0bad0bad0bad0bad0bad0bad0bad0"
#define ATTACKER_SECOND_NODE "bad2bad2bad2bad2bad2bad2bad2bad2"

static guint16 test_port;

static gboolean
fetch_has_cut_bytes (gpointer user_data)
{
  KithTestFetch *fetch = user_data;
  return kith_dbus_transfer1_get_bytes_done (fetch->proxy) >= RESUME_CUT;
}

/* One case's cast: the origin with a file of RESUME_SIZE bytes at @path, B that fetches it,
 * H (when asked for) that may come to hold it, and the LAN attacker in @mode, which offers
 * the same file and breaks off RESUME_CUT bytes into it. */
typedef struct {
  KithTestOrigin *origin;
  GBytes *content;
  gchar *sha;
  gchar *url;
  KithTestNode *b;
  KithTestNode *h;
  KithTestAttacker *cutter;
} Cast;

static void
cast_start (Cast *cast, const gchar *path, const gchar *mode, guint seed, gboolean with_holder)
{
  g_autofree gchar *size = g_strdup_printf ("%u", RESUME_SIZE);
  g_autofree gchar *seed_arg = g_strdup_printf ("%u", seed);

  cast->origin = kith_test_origin_new ();
  cast->content = kith_test_make_content (RESUME_SIZE, seed);
  cast->sha = kith_test_sha256 (cast->content);
  cast->url = kith_test_origin_url (cast->origin, path);
  /* each case has B (and H) take the attacker's first answer: they wait for it */
  cast->b = kith_test_node_start_peering (test_port, KITH_TEST_MEET_THE_ATTACKER);
  if (with_holder)
    cast->h = kith_test_node_start_peering (test_port, KITH_TEST_MEET_THE_ATTACKER);
  kith_test_origin_add (cast->origin, path, cast->content, 0);
  cast->cutter = kith_test_attacker_spawn (test_port, mode, size, seed_arg);
}

/* In the order the cases' own variables went. */
static void
cast_clear (Cast *cast)
{
  g_clear_pointer (&cast->cutter, kith_test_attacker_free);
  g_clear_pointer (&cast->h, kith_test_node_free);
  g_clear_pointer (&cast->b, kith_test_node_free);
  g_free (cast->url);
  g_free (cast->sha);
  g_clear_pointer (&cast->content, g_bytes_unref);
  g_clear_pointer (&cast->origin, kith_test_origin_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Cast, cast_clear)

/* B's download from the attacker stops a third of the way, its connection held open; H
 * fetches the file meanwhile (whole, from the same attacker) and says "complete", at which
 * the attacker cuts B off. B asks H, the holder it just heard of, for the rest: H serves
 * exactly the two thirds B lacked, and B's copy verifies. */
START_TEST (test_resumed_from_holder)
{
  g_auto (Cast) cast = { 0 };
  g_autoptr (KithTestFetch) fb = NULL;
  g_autofree gchar *from_h = NULL;

  cast_start (&cast, "/resume.bin", "cut-late", 41, TRUE);
  ck_assert_str_eq (cast.cutter->sha256, cast.sha);
  fb = kith_test_fetch_start (cast.b, cast.url, cast.sha, 0, FALSE);
  ck_assert (kith_test_wait_until (fetch_has_cut_bytes, fb, 10000));
  ck_assert_str_eq (kith_dbus_transfer1_get_source (fb->proxy), ATTACKER_NODE);
  /* the attacker's second answer is the whole file: H holds it, and its "complete" cuts B */
  from_h = kith_test_fetch_sync (cast.h, cast.url, cast.sha, FALSE, cast.content);
  ck_assert_str_eq (from_h, ATTACKER_NODE);
  ck_assert_str_eq (kith_test_fetch_wait_done (fb, cast.content, 30000),
                    kith_test_agent_get_node_id (cast.h->agent));
  /* H was asked from byte RESUME_CUT on, and sent nothing else */
  ck_assert_uint_eq (kith_test_node_peering_status (cast.h, "bytes-served"), RESUME_SIZE - RESUME_CUT);
  ck_assert_uint_eq (kith_test_node_peering_counter (cast.b, "resumed", "result=\"ranged\""), 1);
  ck_assert_uint_eq (kith_test_node_peering_counter (cast.b, "resumed", NULL), 1);
  /* a cut is a fault, not a lie */
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "peer-backoffs"), 1);
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "bad-peers"), 0);
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "bytes-from-peers"), RESUME_SIZE);
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "cache-bytes"), RESUME_SIZE);
  ck_assert_uint_eq (kith_test_origin_get_requests (cast.origin, "/resume.bin"), 0);
  /* the cut answer sent its third and no more */
  kith_test_attacker_stop (cast.cutter);
  ck_assert_uint_eq (cast.cutter->connections, 2);
}
END_TEST

/* B's download from the attacker is cut a third of the way; the attacker's second identity
 * answers B's "bytes=N-" with a 206 of the right length from byte 0: refused before a byte of
 * it is taken, counted as a lie, the liar banned. B, elected, asks the origin for the rest
 * (the caller gave the size: a size only peers announced does not bound an origin's answer):
 * the origin sends exactly the two thirds, and B's copy verifies. */
START_TEST (test_wrong_range_refused_then_origin)
{
  g_auto (Cast) cast = { 0 };
  g_autoptr (KithTestFetch) fetch = NULL;

  cast_start (&cast, "/lie.bin", "cut-then-lie", 42, FALSE);
  /* the size the caller trusts: only then is the cast.origin asked for a part of the file */
  fetch = kith_test_fetch_start (cast.b, cast.url, cast.sha, RESUME_SIZE, FALSE);
  ck_assert_str_eq (kith_test_fetch_wait_done (fetch, cast.content, 30000), "origin");
  ck_assert_uint_eq (kith_test_origin_get_requests (cast.origin, "/lie.bin"), 1);
  ck_assert_uint_eq (kith_test_origin_get_bytes (cast.origin, "/lie.bin"), RESUME_SIZE - RESUME_CUT);
  ck_assert_uint_eq (kith_test_node_peering_counter (cast.b, "resumed", "result=\"lied\""), 1);
  ck_assert_uint_eq (kith_test_node_peering_counter (cast.b, "resumed", "result=\"ranged\""), 1);
  /* the cut: backed off; the wrong range: banned */
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "peer-backoffs"), 1);
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "bad-peers"), 1);
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "bytes-from-origin"), RESUME_SIZE - RESUME_CUT);
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "bytes-from-peers"), RESUME_CUT);
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "cache-bytes"), RESUME_SIZE);
  kith_test_attacker_stop (cast.cutter);
  ck_assert_uint_eq (cast.cutter->connections, 2);
}
END_TEST

/* The second identity ignores the range and answers 200 with the whole file: B throws away
 * the third it kept, hashes from byte 0 again, and its copy verifies. */
START_TEST (test_range_ignored_starts_over)
{
  g_auto (Cast) cast = { 0 };
  g_autofree gchar *source = NULL;

  cast_start (&cast, "/whole.bin", "cut-then-whole", 43, FALSE);
  source = kith_test_fetch_sync (cast.b, cast.url, cast.sha, FALSE, cast.content);
  ck_assert_str_eq (source, ATTACKER_SECOND_NODE);
  ck_assert_uint_eq (kith_test_node_peering_counter (cast.b, "resumed", "result=\"restarted\""), 1);
  ck_assert_uint_eq (kith_test_node_peering_counter (cast.b, "resumed", NULL), 1);
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "bad-peers"), 0);
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "bytes-from-peers"), RESUME_SIZE);
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "cache-bytes"), RESUME_SIZE);
  ck_assert_uint_eq (kith_test_origin_get_requests (cast.origin, "/whole.bin"), 0);
  /* the whole file went out on the second connection */
  ck_assert_uint_eq (kith_test_attacker_stop (cast.cutter), RESUME_SIZE);
}
END_TEST

/* The third the attacker sent before it broke off is not the file's: the origin, asked for
 * the rest, completes a copy that does not match. The origin is where the file comes from:
 * the attacker is banned for its bytes, they are thrown away, and the origin is asked for the
 * whole file — the fetch does not fail for it. */
START_TEST (test_bad_kept_bytes_fetched_again_whole)
{
  g_auto (Cast) cast = { 0 };
  g_autoptr (KithTestFetch) fetch = NULL;

  cast_start (&cast, "/poison.bin", "cut-poison", 44, FALSE);
  fetch = kith_test_fetch_start (cast.b, cast.url, cast.sha, RESUME_SIZE, FALSE);
  ck_assert_str_eq (kith_test_fetch_wait_done (fetch, cast.content, 30000), "origin");
  /* the rest, then the whole */
  ck_assert_uint_eq (kith_test_origin_get_requests (cast.origin, "/poison.bin"), 2);
  ck_assert_uint_eq (kith_test_origin_get_bytes (cast.origin, "/poison.bin"), 2 * RESUME_SIZE - RESUME_CUT);
  ck_assert_uint_eq (kith_test_node_peering_counter (cast.b, "resumed", "result=\"ranged\""), 1);
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "bad-peers"), 1);
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "bytes-from-origin"), RESUME_SIZE);
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "bytes-from-peers"), 0);
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "cache-bytes"), RESUME_SIZE);
  ck_assert_uint_eq (kith_test_attacker_stop (cast.cutter), RESUME_CUT);
}
END_TEST

/* The caller gives only the sha256: the size the kept third is bounded by is the one the
 * attacker announced, and the origin's 206 must say the same before its rest is taken. */
START_TEST (test_resumed_from_origin_without_size)
{
  g_auto (Cast) cast = { 0 };
  g_autofree gchar *source = NULL;

  cast_start (&cast, "/nosize.bin", "cut", 46, FALSE);
  source = kith_test_fetch_sync (cast.b, cast.url, cast.sha, FALSE, cast.content);
  ck_assert_str_eq (source, "origin");
  ck_assert_uint_eq (kith_test_origin_get_requests (cast.origin, "/nosize.bin"), 1);
  ck_assert_uint_eq (kith_test_origin_get_bytes (cast.origin, "/nosize.bin"), RESUME_SIZE - RESUME_CUT);
  ck_assert_uint_eq (kith_test_node_peering_counter (cast.b, "resumed", "result=\"ranged\""), 1);
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "bytes-from-peers"), RESUME_CUT);
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "cache-bytes"), RESUME_SIZE);
  ck_assert_uint_eq (kith_test_attacker_stop (cast.cutter), RESUME_CUT);
}
END_TEST

/* The attacker announced 1000 bytes more than the file has and broke off a third of the
 * way: the origin's 206 to the rest names the file's real size, not the one the kept bytes
 * were bounded by. Not the origin's lie: the kept bytes go, the origin is asked for the whole
 * file, and the fetch ends with it. */
START_TEST (test_wrong_announced_size_fetched_again_whole)
{
  g_auto (Cast) cast = { 0 };
  g_autofree gchar *source = NULL;

  cast_start (&cast, "/bigger.bin", "cut-size", 47, FALSE);
  source = kith_test_fetch_sync (cast.b, cast.url, cast.sha, FALSE, cast.content);
  ck_assert_str_eq (source, "origin");
  /* the rest, refused for its range; then the whole */
  ck_assert_uint_eq (kith_test_origin_get_requests (cast.origin, "/bigger.bin"), 2);
  ck_assert_uint_eq (kith_test_node_peering_counter (cast.b, "resumed", "result=\"lied\""), 1);
  ck_assert_uint_eq (kith_test_node_peering_counter (cast.b, "resumed", "result=\"ranged\""), 0);
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "bytes-from-origin"), RESUME_SIZE);
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "bytes-from-peers"), 0);
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "cache-bytes"), RESUME_SIZE);
}
END_TEST

/* The third the attacker sent B before it broke off is not the file's; the honest holder H
 * sends the rest and B's copy does not match. It had two senders, so neither is banned for
 * it alone: each is backed off as for a fault, and H is asked for the whole file, which
 * alone makes B's copy. Against it, the attacker's third differs and H's rest does not: the
 * attacker is banned, H is not, and H, forgiven at that good delivery, is the source of B's
 * next fetch. */
START_TEST (test_mixed_mismatch_bans_the_liar)
{
  g_auto (Cast) cast = { 0 };
  g_autoptr (GBytes) next = kith_test_make_content (RESUME_SIZE, 49);
  g_autofree gchar *next_sha = kith_test_sha256 (next);
  g_autofree gchar *next_url = NULL;
  g_autoptr (KithTestFetch) fb = NULL;
  g_autofree gchar *from_h = NULL;
  g_autofree gchar *next_source = NULL;
  g_autofree gchar *next_from_h = NULL;

  cast_start (&cast, "/framed.bin", "cut-late-poison", 48, TRUE);
  next_url = kith_test_origin_url (cast.origin, "/next.bin");
  kith_test_origin_add (cast.origin, "/next.bin", next, 0);
  fb = kith_test_fetch_start (cast.b, cast.url, cast.sha, 0, FALSE);
  ck_assert (kith_test_wait_until (fetch_has_cut_bytes, fb, 10000));
  ck_assert_str_eq (kith_dbus_transfer1_get_source (fb->proxy), ATTACKER_NODE);
  /* the attacker's second answer is the whole file: H holds it, and its "complete" cuts B */
  from_h = kith_test_fetch_sync (cast.h, cast.url, cast.sha, FALSE, cast.content);
  ck_assert_str_eq (from_h, ATTACKER_NODE);
  ck_assert_str_eq (kith_test_fetch_wait_done (fb, cast.content, 30000),
                    kith_test_agent_get_node_id (cast.h->agent));
  /* H was asked for the rest, then for the whole */
  ck_assert_uint_eq (kith_test_node_peering_status (cast.h, "bytes-served"), 2 * RESUME_SIZE - RESUME_CUT);
  ck_assert_uint_eq (kith_test_node_peering_counter (cast.b, "resumed", "result=\"ranged\""), 1);
  ck_assert_uint_eq (kith_test_node_peering_counter (cast.b, "resumed", "result=\"mismatched\""), 1);
  /* the attacker, whose third differs from the verified copy */
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "bad-peers"), 1);
  /* the cut, then the attacker and H for the copy that did not match */
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "peer-backoffs"), 3);
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "bytes-from-peers"), RESUME_SIZE);
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "cache-bytes"), RESUME_SIZE);
  ck_assert_uint_eq (kith_test_origin_get_requests (cast.origin, "/framed.bin"), 0);
  /* H is not held against: B's next fetch, of a file only H has, comes from it */
  next_from_h = kith_test_fetch_sync (cast.h, next_url, next_sha, FALSE, next);
  ck_assert_str_eq (next_from_h, "origin");
  next_source = kith_test_fetch_sync (cast.b, next_url, next_sha, FALSE, next);
  ck_assert_str_eq (next_source, kith_test_agent_get_node_id (cast.h->agent));
  ck_assert_uint_eq (kith_test_node_peering_status (cast.b, "bad-peers"), 1);
  ck_assert_uint_eq (kith_test_origin_get_requests (cast.origin, "/next.bin"), 1);
  kith_test_attacker_stop (cast.cutter);
}
END_TEST

#define LEADER_SIZE (2 * 1024 * 1024 + 17)
#define LEADER_HOLD (512 * 1024)

static gboolean
fetch_holds_origin_bytes (gpointer user_data)
{
  KithTestFetch *fetch = user_data;
  return g_strcmp0 (kith_dbus_transfer1_get_state (fetch->proxy), "from-origin") == 0 &&
         kith_dbus_transfer1_get_bytes_done (fetch->proxy) >= LEADER_HOLD;
}

static gboolean
fetch_streamed_hold (gpointer user_data)
{
  KithTestFetch *fetch = user_data;
  return g_strcmp0 (kith_dbus_transfer1_get_state (fetch->proxy), "from-peer") == 0 &&
         kith_dbus_transfer1_get_bytes_done (fetch->proxy) >= LEADER_HOLD;
}

/* A fetches from the origin, whose answer is held after LEADER_HOLD bytes; B reads A's
 * partial copy as it grows and has all of them when A's process is killed. B, left with no
 * other source, asks the origin for the rest: in all, the origin sent the file once (A's
 * held part and B's rest), and B's copy verifies. */
START_TEST (test_killed_leader_resumed_from_origin)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (LEADER_SIZE, 45);
  g_autofree gchar *sha = kith_test_sha256 (content);
  g_autofree gchar *url = kith_test_origin_url (origin, "/leader.bin");
  g_autoptr (KithTestNode) a = kith_test_node_start_peering (test_port, NULL);
  g_autoptr (KithTestNode) b = kith_test_node_start_peering (test_port, NULL);
  g_autoptr (KithTestFetch) fa = NULL;
  g_autoptr (KithTestFetch) fb = NULL;

  kith_test_origin_add (origin, "/leader.bin", content, 0);
  kith_test_origin_hold (origin, "/leader.bin", LEADER_HOLD);
  fa = kith_test_fetch_start (a, url, NULL, 0, FALSE);
  ck_assert (kith_test_wait_until (fetch_holds_origin_bytes, fa, 10000));
  fb = kith_test_fetch_start (b, url, sha, LEADER_SIZE, FALSE);
  ck_assert_msg (kith_test_wait_until (fetch_streamed_hold, fb, 20000), "B is %s with %" G_GUINT64_FORMAT " bytes",
                 kith_dbus_transfer1_get_state (fb->proxy), kith_dbus_transfer1_get_bytes_done (fb->proxy));
  ck_assert_str_eq (kith_dbus_transfer1_get_source (fb->proxy), kith_test_agent_get_node_id (a->agent));
  kith_test_node_kill (a);
  ck_assert_str_eq (kith_test_fetch_wait_done (fb, content, 30000), "origin");
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/leader.bin"), 2);
  ck_assert_uint_eq (kith_test_origin_get_bytes (origin, "/leader.bin"), LEADER_SIZE);
  ck_assert_uint_eq (kith_test_node_peering_counter (b, "resumed", "result=\"ranged\""), 1);
  ck_assert_uint_eq (kith_test_node_peering_status (b, "bytes-from-peers"), LEADER_HOLD);
  ck_assert_uint_eq (kith_test_node_peering_status (b, "bytes-from-origin"), LEADER_SIZE - LEADER_HOLD);
  ck_assert_uint_eq (kith_test_node_peering_status (b, "cache-bytes"), LEADER_SIZE);
  kith_test_origin_release (origin, "/leader.bin");
}
END_TEST

static Suite *
resume_suite (void)
{
  Suite *suite = suite_create ("resume");
  TCase *tc = tcase_create ("resume");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_resumed_from_holder);
  tcase_add_test (tc, test_wrong_range_refused_then_origin);
  tcase_add_test (tc, test_range_ignored_starts_over);
  tcase_add_test (tc, test_bad_kept_bytes_fetched_again_whole);
  tcase_add_test (tc, test_mixed_mismatch_bans_the_liar);
  tcase_add_test (tc, test_killed_leader_resumed_from_origin);
  tcase_add_test (tc, test_resumed_from_origin_without_size);
  tcase_add_test (tc, test_wrong_announced_size_fetched_again_whole);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (int argc, char **argv)
{
  test_port = g_random_int_range (20000, 60000);
  return kith_test_run_suite (resume_suite ());
}
