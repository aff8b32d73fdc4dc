/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-stream.c — streaming to waiting peers across real agent processes on loopback
 * (docs/protocol.md "Streaming"): a waiter with a trusted hash reads the leader's partial
 * copy while the origin download is still running, and a leader whose bytes do not match
 * is thrown away, marked and replaced by a fetch elsewhere */
#include "kith-dbus-generated.h"
#include "kith-packet.h"
#include "kith-test-child.h"
#include "kith-test-node.h"
#include "kith-test-origin.h"
#include "kith-transport.h"

#include <check.h>

#include "kith-test-suite.h"
#include <libsoup/soup.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_SIZE (2 * 1024 * 1024 + 17)
#define STREAM_HOLD (512 * 1024)

static guint16 test_port;

static gboolean
fetch_holds_origin_bytes (gpointer user_data)
{
  KithTestFetch *fetch = user_data;
  return g_strcmp0 (kith_dbus_transfer1_get_state (fetch->proxy), "from-origin") == 0 &&
         kith_dbus_transfer1_get_bytes_done (fetch->proxy) >= STREAM_HOLD;
}

static gboolean
fetch_streams_bytes (gpointer user_data)
{
  KithTestFetch *fetch = user_data;
  return g_strcmp0 (kith_dbus_transfer1_get_state (fetch->proxy), "from-peer") == 0 &&
         kith_dbus_transfer1_get_bytes_done (fetch->proxy) > 0;
}

/* A's origin download is held mid-body; B, asking meanwhile, has bytes of it before the
 * origin has sent the rest. Both end with the verified file; the origin served it once. */
START_TEST (test_waiter_streams_before_origin_ends)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (STREAM_SIZE, 31);
  g_autofree gchar *url = kith_test_origin_url (origin, "/stream.bin");
  g_autoptr (KithTestNode) a = kith_test_node_start_peering (test_port, NULL);
  g_autoptr (KithTestNode) b = kith_test_node_start_peering (test_port, NULL);
  g_autoptr (KithTestFetch) fa = NULL;
  g_autoptr (KithTestFetch) fb = NULL;
  guint64 streamed_while_held;

  kith_test_origin_add (origin, "/stream.bin", content, 0);
  kith_test_origin_hold (origin, "/stream.bin", STREAM_HOLD);
  fa = kith_test_fetch_start (a, url, NULL, 0, FALSE);
  ck_assert (kith_test_wait_until (fetch_holds_origin_bytes, fa, 10000));
  /* B takes the origin's digest as its trusted hash, and reads A's partial copy */
  fb = kith_test_fetch_start (b, url, NULL, 0, FALSE);
  ck_assert (kith_test_wait_until (fetch_streams_bytes, fb, 10000));
  streamed_while_held = kith_dbus_transfer1_get_bytes_done (fb->proxy);
  ck_assert_str_eq (kith_dbus_transfer1_get_source (fb->proxy), kith_test_agent_get_node_id (a->agent));
  /* the origin is still held: A has not finished, and B has no more than A had */
  ck_assert_str_eq (kith_dbus_transfer1_get_state (fa->proxy), "from-origin");
  ck_assert_uint_le (streamed_while_held, STREAM_HOLD);
  ck_assert_uint_eq (kith_test_node_peering_status (a, "bytes-served-partial") <= STREAM_HOLD, TRUE);
  kith_test_origin_release (origin, "/stream.bin");
  ck_assert_str_eq (kith_test_fetch_wait_done (fa, content, 30000), "origin");
  ck_assert_str_eq (kith_test_fetch_wait_done (fb, content, 30000), kith_test_agent_get_node_id (a->agent));
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/stream.bin"), 1);
  ck_assert_uint_eq (kith_test_node_peering_status (b, "streamed"), 1);
  ck_assert_uint_eq (kith_test_node_peering_status (b, "bytes-from-peers"), STREAM_SIZE);
  ck_assert_uint_eq (kith_test_node_peering_status (b, "cache-bytes"), STREAM_SIZE);
  ck_assert_uint_eq (kith_test_node_peering_status (a, "bytes-served-partial"), STREAM_SIZE);
}
END_TEST

#define STORM_NODES 4

typedef struct {
  KithTestFetch **fetches;
  guint n;
} Storm;

/* Every fetch but the one from the origin reads a peer's partial copy and has bytes. */
static gboolean
storm_all_streaming (gpointer user_data)
{
  Storm *storm = user_data;
  guint streaming = 0;

  for (guint i = 0; i < storm->n; i++)
    streaming += fetch_streams_bytes (storm->fetches[i]);
  return streaming == storm->n - 1;
}

/* A boot storm while the origin is held mid-body: one node fetches from the origin, every
 * other one is already reading a partial copy (the leader's or another waiter's) before
 * the origin sends the rest; all end verified, the origin served it once. With
 * @stream_readers 1 every partial copy takes one reader: the others read a waiter's copy
 * (turned away with 503 when they asked a full one), a chain. */
static void
storm_run (guint stream_readers)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (STREAM_SIZE, 33);
  g_autofree gchar *url = kith_test_origin_url (origin, "/storm.bin");
  g_autofree gchar *extra = g_strdup_printf ("stream-readers=%u\n", stream_readers);
  KithTestNode *nodes[STORM_NODES];
  KithTestFetch *fetches[STORM_NODES];
  Storm storm = { fetches, STORM_NODES };
  guint64 streamed = 0, served = 0;
  guint from_origin = 0;

  kith_test_origin_add (origin, "/storm.bin", content, 0);
  kith_test_origin_hold (origin, "/storm.bin", STREAM_HOLD);
  for (guint i = 0; i < STORM_NODES; i++)
    nodes[i] = kith_test_node_start_peering (test_port, extra);
  for (guint i = 0; i < STORM_NODES; i++)
    fetches[i] = kith_test_fetch_start (nodes[i], url, NULL, 0, FALSE);
  ck_assert (kith_test_wait_until (storm_all_streaming, &storm, 20000));
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/storm.bin"), 1);
  kith_test_origin_release (origin, "/storm.bin");
  for (guint i = 0; i < STORM_NODES; i++) {
    guint64 node_served;
    if (g_strcmp0 (kith_test_fetch_wait_done (fetches[i], content, 30000), "origin") == 0)
      from_origin++;
    streamed += kith_test_node_peering_status (nodes[i], "streamed");
    /* a node turned away (503) read someone else's copy: counted, never a failure */
    ck_assert_uint_le (kith_test_node_peering_status (nodes[i], "stream-busy"), 16);
    node_served = kith_test_node_peering_status (nodes[i], "bytes-served-partial");
    /* nobody served more copies than it takes readers */
    ck_assert_uint_le (node_served, (guint64) stream_readers * STREAM_SIZE);
    served += node_served;
  }
  ck_assert_uint_eq (from_origin, 1);
  ck_assert_uint_eq (streamed, STORM_NODES - 1);
  ck_assert_uint_eq (served, (guint64) (STORM_NODES - 1) * STREAM_SIZE);
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/storm.bin"), 1);
  for (guint i = 0; i < STORM_NODES; i++) {
    kith_test_fetch_free (fetches[i]);
    kith_test_node_free (nodes[i]);
  }
}

START_TEST (test_storm_streams_while_origin_held)
{
  storm_run (4);
}
END_TEST

START_TEST (test_storm_full_copies_send_readers_on)
{
  storm_run (1);
}
END_TEST

/* ---- a bad leader, as its own process: answers every "I need" with "downloading",
 * naming a partial copy, and serves bytes that are not the file (mode "wrong") or the
 * first half of the file and then nothing (mode "stall") ---- */

typedef struct {
  KithTransport *transport;
  gchar *alias;
  guint64 size;
  gboolean stall;
  guint32 seed; /* of the real file (kith_test_make_content) */
} FakeLeader;

static void
fake_leader_datagram (KithTransport *transport, GBytes *data, GSocketAddress *from, FakeLeader *fake)
{
  gsize len = 0;
  const guint8 *raw = g_bytes_get_data (data, &len);
  g_autoptr (KithPacket) request = kith_packet_parse (raw, len, NULL);
  g_autoptr (KithPacket) reply = NULL;
  g_autoptr (GBytes) bytes = NULL;

  if (request == NULL || request->type != KITH_PACKET_TYPE_REQUEST)
    return;
  reply = kith_packet_new (KITH_PACKET_TYPE_DOWNLOADING);
  reply->id = request->id;
  reply->node = g_strdup ("1ea01ea01ea01ea01ea01ea01ea01ea0");
  reply->href = g_strdup (request->href);
  reply->alias = g_strdup (fake->alias);
  reply->done = fake->size / 2;
  reply->total = fake->size;
  bytes = kith_packet_write (reply, NULL);
  kith_transport_send_to (transport, bytes, from, NULL);
}

static void
fake_leader_serve (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                   gpointer user_data)
{
  FakeLeader *fake = user_data;
  g_autoptr (GBytes) wrong = kith_test_make_content (fake->size, 666);
  /* a stall is a fault, not a lie: the half it sends is the file's */
  g_autoptr (GBytes) right = kith_test_make_content (fake->size, fake->seed);
  g_autoptr (GBytes) half = g_bytes_new_from_bytes (right, 0, fake->size / 2);

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  if (!fake->stall) {
    soup_message_body_append_bytes (soup_server_message_get_response_body (msg), wrong);
    return;
  }
  /* half of the promised length, then the answer is never completed */
  soup_message_headers_set_content_length (soup_server_message_get_response_headers (msg), fake->size);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), half);
}

/* test-stream --fake-leader PORT SIZE MODE SEED (of the real file): runs until stdin closes (or 120 s). */
static int
fake_leader_main (char **argv)
{
  static const gchar *const broadcast[] = { "127.255.255.255", NULL };
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr (GError) error = NULL;
  FakeLeader fake = { .size = g_ascii_strtoull (argv[3], NULL, 10), .stall = g_strcmp0 (argv[4], "stall") == 0,
                      .seed = (guint32) g_ascii_strtoull (argv[5], NULL, 10) };
  GSList *uris;

  fake.transport = kith_transport_new (atoi (argv[2]), "127.255.255.255", "127.0.0.1", broadcast, NULL);
  g_assert_true (kith_transport_start (fake.transport, &error));
  g_signal_connect (fake.transport, "datagram", G_CALLBACK (fake_leader_datagram), &fake);
  soup_server_add_handler (server, "/alias/partial/", fake_leader_serve, &fake, NULL);
  g_assert_true (soup_server_listen (server, address, 0, &error));
  uris = soup_server_get_uris (server);
  fake.alias = g_strdup_printf ("http://127.0.0.1:%d/alias/partial/0123456789abcdef0123456789abcdef",
                                g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  kith_test_child_run (loop, "ready");
  kith_transport_stop (fake.transport);
  g_object_unref (fake.transport);
  g_free (fake.alias);
  return 0;
}

static GSubprocess *
fake_leader_spawn (gsize size, const gchar *mode, guint32 seed)
{
  g_autofree gchar *port = g_strdup_printf ("%u", test_port);
  g_autofree gchar *length = g_strdup_printf ("%" G_GSIZE_FORMAT, size);
  g_autofree gchar *seed_text = g_strdup_printf ("%u", seed);

  return kith_test_child_spawn ("--fake-leader", port, length, mode, seed_text, NULL);
}

/* B streams from the liar (it announces a download in progress), finds the hash wrong at
 * the end, throws the copy away, marks the liar and fetches the file from the origin. B
 * waits for the liar's answer (KITH_TEST_MEET_THE_ATTACKER), here and in the next case. */
START_TEST (test_lying_leader_refetched)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (256 * 1024, 32);
  g_autofree gchar *sha = kith_test_sha256 (content);
  g_autofree gchar *url = kith_test_origin_url (origin, "/lied.bin");
  g_autoptr (KithTestNode) b = kith_test_node_start_peering (test_port, KITH_TEST_MEET_THE_ATTACKER);
  g_autoptr (GSubprocess) fake = fake_leader_spawn (g_bytes_get_size (content), "wrong", 32);
  g_autofree gchar *source = NULL;

  kith_test_origin_add (origin, "/lied.bin", content, 0);
  source = kith_test_fetch_sync (b, url, sha, FALSE, content);
  ck_assert_str_eq (source, "origin");
  ck_assert_uint_eq (kith_test_node_peering_status (b, "bad-peers"), 1);
  ck_assert_uint_eq (kith_test_node_peering_status (b, "streamed"), 0);
  /* the liar's bytes were read and thrown away: only the origin's copy is kept */
  ck_assert_uint_eq (kith_test_node_peering_status (b, "cache-bytes"), g_bytes_get_size (content));
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/lied.bin"), 1);
  g_output_stream_close (g_subprocess_get_stdin_pipe (fake), NULL, NULL);
  ck_assert (g_subprocess_wait_check (fake, NULL, NULL));
}
END_TEST

/* B streams from a leader that stops sending halfway (its connection open): B leaves it
 * after stall-ms as a fault (backed off, not banned) and fetches from the origin. */
START_TEST (test_stalled_leader_left)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (256 * 1024, 34);
  g_autofree gchar *sha = kith_test_sha256 (content);
  g_autofree gchar *url = kith_test_origin_url (origin, "/stalled.bin");
  g_autoptr (KithTestNode) b =
      kith_test_node_start_peering (test_port, "stall-ms=500\n" KITH_TEST_MEET_THE_ATTACKER);
  g_autoptr (GSubprocess) fake = fake_leader_spawn (g_bytes_get_size (content), "stall", 34);
  g_autoptr (KithTestFetch) fetch = NULL;

  kith_test_origin_add (origin, "/stalled.bin", content, 0);
  fetch = kith_test_fetch_start (b, url, sha, 0, FALSE);
  ck_assert_str_eq (kith_test_fetch_wait_done (fetch, content, 30000), "origin");
  /* the stream that stopped is the one fault: backed off, not banned */
  ck_assert_uint_eq (kith_test_node_peering_status (b, "peer-backoffs"), 1);
  ck_assert_uint_eq (kith_test_node_peering_status (b, "bad-peers"), 0);
  ck_assert_uint_eq (kith_test_node_peering_status (b, "cache-bytes"), g_bytes_get_size (content));
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/stalled.bin"), 1);
  /* the stall bound and the back-off, not the 60 s socket timeout, set the pace */
  ck_assert_int_lt (kith_test_fetch_get_elapsed_ms (fetch), kith_test_timeout_ms (10000));
  g_output_stream_close (g_subprocess_get_stdin_pipe (fake), NULL, NULL);
  ck_assert (g_subprocess_wait_check (fake, NULL, NULL));
}
END_TEST

typedef struct {
  KithTestNode *node;
  guint min;
} Heard;

/* @node heard at least @min "downloading". */
static gboolean
heard_downloading (gpointer user_data)
{
  Heard *heard = user_data;
  return kith_test_node_peering_counter (heard->node, "packets-in", "type=\"downloading\"") >= heard->min;
}

/* What @node's peer directory says @peer is doing with @url: its activity (NULL: nothing)
 * and, downloading, how far it is. */
static gchar *
directory_activity (KithTestNode *node, const gchar *peer, const gchar *url, guint64 *done)
{
  g_autoptr (GVariant) section = kith_test_get_status_section (node->connection, "peering");
  g_autoptr (GVariant) peers = g_variant_lookup_value (section, "peers", G_VARIANT_TYPE ("aa{sv}"));

  ck_assert (peers != NULL);
  for (gsize i = 0; i < g_variant_n_children (peers); i++) {
    g_autoptr (GVariant) entry = g_variant_get_child_value (peers, i);
    const gchar *id = NULL, *href = NULL, *activity = NULL;
    if (g_variant_lookup (entry, "node", "&s", &id) && g_str_equal (id, peer) &&
        g_variant_lookup (entry, "href", "&s", &href) && g_str_equal (href, url) &&
        g_variant_lookup (entry, "activity", "&s", &activity)) {
      g_variant_lookup (entry, "done", "t", done);
      return g_strdup (activity);
    }
  }
  return NULL;
}

/* A download that stops bringing bytes is still announced: A's origin download is held
 * mid-body, and W, a node started after A's last byte came (it asks nothing, so no answer
 * tells it), hears A's "downloading" all the same — twice, the progress where it stopped
 * — and so knows who is fetching the URL. The repeats are bounded: A sent at most one per
 * kith_fetch_announce_repeat_ms() (1 s with the default timings) meanwhile. */
START_TEST (test_stalled_download_reannounced)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (STREAM_SIZE, 36);
  g_autofree gchar *url = kith_test_origin_url (origin, "/still.bin");
  g_autoptr (KithTestNode) a = kith_test_node_start_peering (test_port, NULL);
  g_autoptr (KithTestNode) w = NULL;
  g_autoptr (KithTestFetch) fa = NULL;
  g_autofree gchar *activity = NULL;
  Heard heard = { NULL, 2 };
  guint64 sent_before, sent, done = 0;
  gint64 started_us, elapsed_ms;

  kith_test_origin_add (origin, "/still.bin", content, 0);
  kith_test_origin_hold (origin, "/still.bin", STREAM_HOLD);
  fa = kith_test_fetch_start (a, url, NULL, 0, FALSE);
  ck_assert (kith_test_wait_until (fetch_holds_origin_bytes, fa, 10000));
  started_us = g_get_monotonic_time ();
  sent_before = kith_test_node_peering_counter (a, "packets-out", "type=\"downloading\"");
  w = kith_test_node_start_peering (test_port, NULL);
  heard.node = w;
  ck_assert_msg (kith_test_poll_until (heard_downloading, &heard, 10000),
                 "a node started after the download stalled never heard of it");
  elapsed_ms = (g_get_monotonic_time () - started_us) / 1000;
  sent = kith_test_node_peering_counter (a, "packets-out", "type=\"downloading\"") - sent_before;
  activity = directory_activity (w, kith_test_agent_get_node_id (a->agent), url, &done);
  ck_assert_str_eq (activity, "downloading");
  ck_assert_uint_eq (done, STREAM_HOLD);
  /* still held: every one of those said the same progress */
  ck_assert_uint_eq (kith_dbus_transfer1_get_bytes_done (fa->proxy), STREAM_HOLD);
  g_print ("stream (stalled): %" G_GUINT64_FORMAT " downloading sent in %" G_GINT64_FORMAT " ms\n", sent,
           elapsed_ms);
  ck_assert_uint_le (sent, (guint64) (elapsed_ms / 1000 + 1));
  kith_test_origin_release (origin, "/still.bin");
  ck_assert_str_eq (kith_test_fetch_wait_done (fa, content, 30000), "origin");
}
END_TEST

static gboolean
fetch_from_origin_has_bytes (gpointer user_data)
{
  KithTestFetch *fetch = user_data;
  return g_strcmp0 (kith_dbus_transfer1_get_state (fetch->proxy), "from-origin") == 0 &&
         kith_dbus_transfer1_get_bytes_done (fetch->proxy) > 0;
}

/* A fetches @size bytes from an origin sending @rate bytes a second; B, asking once A has
 * bytes, follows A's partial copy with follow-max-ms=@follow_ms. Returns where B's copy
 * came from ("origin" or A's node id); *@origin_gets: the origin's GETs for it. */
static gchar *
follow_run (gsize size, guint rate, guint follow_ms, guint *origin_gets)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (size, 35);
  g_autofree gchar *url = kith_test_origin_url (origin, "/follow.bin");
  g_autofree gchar *extra = g_strdup_printf ("follow-max-ms=%u\norigin-deadline-ms=%u\n", follow_ms, follow_ms);
  g_autoptr (KithTestNode) a = kith_test_node_start_peering (test_port, NULL);
  g_autoptr (KithTestNode) b = kith_test_node_start_peering (test_port, extra);
  g_autoptr (KithTestFetch) fa = NULL;
  g_autoptr (KithTestFetch) fb = NULL;
  gchar *source;

  kith_test_origin_add (origin, "/follow.bin", content, rate);
  fa = kith_test_fetch_start (a, url, NULL, 0, FALSE);
  ck_assert (kith_test_wait_until (fetch_from_origin_has_bytes, fa, 10000));
  fb = kith_test_fetch_start (b, url, NULL, 0, FALSE);
  ck_assert (kith_test_wait_until (fetch_streams_bytes, fb, 10000));
  ck_assert_str_eq (kith_test_fetch_wait_done (fa, content, 60000), "origin");
  source = g_strdup (kith_test_fetch_wait_done (fb, content, 60000));
  *origin_gets = kith_test_origin_get_requests (origin, "/follow.bin");
  if (g_str_equal (source, kith_test_agent_get_node_id (a->agent))) {
    g_free (source);
    return g_strdup ("A");
  }
  return source;
}

/* A stream that keeps pace is read to its end past follow-max-ms: 2 MiB at 1 MiB/s, with
 * follow-max-ms=1000, comes from A, and the origin sends it once (before: B left A after
 * 1 s and the origin sent it twice, as in the 200 MiB storm over a 20 Mbit/s uplink). */
START_TEST (test_paced_stream_followed)
{
  guint gets = 0;
  g_autofree gchar *source = follow_run (STREAM_SIZE, 1024 * 1024, 1000, &gets);

  ck_assert_str_eq (source, "A");
  ck_assert_uint_eq (gets, 1);
}
END_TEST

/* A trickle is still left: 512 KiB at 64 KiB/s (8 s) with follow-max-ms=500 cannot finish
 * within 4 × 500 ms, so B goes to the origin itself. */
START_TEST (test_slow_stream_left)
{
  guint gets = 0;
  g_autofree gchar *source = follow_run (512 * 1024, 64 * 1024, 500, &gets);

  ck_assert_str_eq (source, "origin");
  ck_assert_uint_eq (gets, 2);
}
END_TEST

static Suite *
stream_suite (void)
{
  Suite *suite = suite_create ("stream");
  TCase *tc = tcase_create ("stream");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_waiter_streams_before_origin_ends);
  tcase_add_test (tc, test_storm_streams_while_origin_held);
  tcase_add_test (tc, test_storm_full_copies_send_readers_on);
  tcase_add_test (tc, test_lying_leader_refetched);
  tcase_add_test (tc, test_stalled_leader_left);
  tcase_add_test (tc, test_stalled_download_reannounced);
  tcase_add_test (tc, test_paced_stream_followed);
  tcase_add_test (tc, test_slow_stream_left);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (int argc, char **argv)
{
  if (argc == 6 && g_strcmp0 (argv[1], "--fake-leader") == 0)
    return fake_leader_main (argv);
  test_port = g_random_int_range (20000, 60000);
  return kith_test_run_suite (stream_suite ());
}
