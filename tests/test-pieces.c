/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-pieces.c — a large file in pieces from several holders at once, across real agent
 * processes on loopback (docs/protocol.md "Pieces"): with a trusted piece list the bytes
 * come from every holder and none from the origin; a holder that lies about one piece is
 * banned, the pieces the others (and it, before) sent are kept, and only its bad piece is
 * fetched again, from the others */
#include "kith-dbus-generated.h"
#include "kith-test-attacker.h"
#include "kith-test-backend.h"
#include "kith-test-node.h"
#include "kith-test-origin.h"

#include <check.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>

#include "kith-piece-list.h"
#include "kith-test-suite.h"
#include "kith-test-util.h"
#include <string.h>
#include <unistd.h>

#define PIECE (1024 * 1024)
#define PIECES_SIZE (24 * PIECE)
/* every holder answers within a few ms (by rank: at most min (max-delay-ms, miss-wait-ms / 2),
 * 7 ms), well before a fetch in pieces says "found" (max-delay-ms + 1 after it starts): all
 * of them are sources before the first few pieces are in */
#define PIECES_PEERING "max-delay-ms=20\n"

static guint16 test_port;

/* Fetch() over D-Bus with the piece list of @content (pieces of PIECE bytes) into a fresh
 * file of @node's directory; @cached_only: not from the origin. */
static KithTestFetch *
fetch_pieces_start_full (KithTestNode *node, const gchar *url, GBytes *content, const KithPieceList *pieces,
                         gboolean cached_only)
{
  g_autofree gchar *sha256 = kith_test_sha256 (content);
  GVariantDict options;

  g_variant_dict_init (&options, NULL);
  if (cached_only)
    g_variant_dict_insert (&options, "cached-only", "b", TRUE);
  g_variant_dict_insert (&options, "sha256", "s", sha256);
  g_variant_dict_insert (&options, "size", "t", (guint64) g_bytes_get_size (content));
  g_variant_dict_insert (&options, "piece-size", "t", kith_piece_list_get_piece_size (pieces));
  g_variant_dict_insert (&options, "pieces", "s", kith_piece_list_get_hashes (pieces));
  return kith_test_fetch_start_options (node, url, g_variant_dict_end (&options));
}

static KithTestFetch *
fetch_pieces_start (KithTestNode *node, const gchar *url, GBytes *content, const KithPieceList *pieces)
{
  return fetch_pieces_start_full (node, url, content, pieces, FALSE);
}

static KithPieceList *
make_pieces (GBytes *content)
{
  g_autoptr (GString) hashes = g_string_new (NULL);
  gsize size = g_bytes_get_size (content);
  GError *error = NULL;
  KithPieceList *pieces;

  for (gsize offset = 0; offset < size; offset += PIECE) {
    g_autoptr (GBytes) piece = g_bytes_new_from_bytes (content, offset, MIN (PIECE, size - offset));
    g_autofree gchar *sha256 = kith_test_sha256 (piece);
    g_string_append (hashes, sha256);
  }
  pieces = kith_piece_list_new (size, PIECE, hashes->str, &error);
  ck_assert_msg (pieces != NULL, "%s", error != NULL ? error->message : "");
  return pieces;
}

static guint64
served (KithTestNode *node)
{
  return kith_test_node_peering_status (node, "bytes-served");
}

/* @n holders of @content, seeded from @origin (one origin download, the rest from peers). */
static void
seed_holders (KithTestNode **holders, guint n, const gchar *url, GBytes *content)
{
  g_autofree gchar *sha256 = kith_test_sha256 (content);

  for (guint i = 0; i < n; i++) {
    holders[i] = kith_test_node_start_peering (test_port, PIECES_PEERING);
    g_free (kith_test_fetch_sync (holders[i], url, sha256, FALSE, content));
  }
}

/* Three holders, a fourth node fetches with the piece list: every holder sends some of
 * it, together exactly the file (no piece twice), the origin nothing more; the pieces
 * are all counted as verified. A fetch from one holder alone is the time to beat. */
START_TEST (test_pieces_from_three_holders)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (PIECES_SIZE, 51);
  g_autoptr (KithPieceList) pieces = make_pieces (content);
  g_autofree gchar *url = kith_test_origin_url (origin, "/big.bin");
  g_autoptr (KithTestNode) requester = NULL;
  g_autoptr (KithTestFetch) fetch = NULL;
  KithTestNode *holders[3];
  guint64 before[3], total = 0;
  guint origin_requests;

  kith_test_origin_add (origin, "/big.bin", content, 0);
  seed_holders (holders, 3, url, content);
  origin_requests = kith_test_origin_get_requests (origin, "/big.bin");
  for (guint i = 0; i < 3; i++)
    before[i] = served (holders[i]);
  requester = kith_test_node_start_peering (test_port, PIECES_PEERING);
  fetch = fetch_pieces_start (requester, url, content, pieces);
  kith_test_fetch_wait_done (fetch, content, 30000);
  for (guint i = 0; i < 3; i++) {
    guint64 sent = served (holders[i]) - before[i];
    g_print ("pieces: holder %u sent %" G_GUINT64_FORMAT " bytes\n", i, sent);
    ck_assert_msg (sent > 0, "holder %u sent nothing", i);
    ck_assert_uint_eq (sent % PIECE, 0);
    total += sent;
  }
  g_print ("pieces: %u MiB from 3 holders in %" G_GINT64_FORMAT " ms\n", PIECES_SIZE / PIECE,
           kith_test_fetch_get_elapsed_ms (fetch));
  ck_assert_uint_eq (kith_test_node_peering_counter (requester, "pieces", "result=\"dropped\""), 0);
  ck_assert_uint_eq (total, PIECES_SIZE);
  ck_assert_uint_eq (kith_test_node_peering_counter (requester, "pieces", "result=\"ok\""), PIECES_SIZE / PIECE);
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/big.bin"), origin_requests);
  ck_assert_uint_eq (kith_test_node_peering_status (requester, "bytes-from-origin"), 0);
  ck_assert_uint_eq (kith_test_node_peering_status (requester, "bytes-from-peers"), PIECES_SIZE);
  ck_assert_uint_eq (kith_test_node_peering_status (requester, "bytes-from-pieces"), PIECES_SIZE);
  /* for the log: the same file whole from one holder (no piece list) */
  {
    g_autoptr (KithTestNode) single = kith_test_node_start_peering (test_port, PIECES_PEERING);
    g_autofree gchar *sha256 = kith_test_sha256 (content);
    g_autoptr (KithTestFetch) whole = kith_test_fetch_start (single, url, sha256, PIECES_SIZE, FALSE);
    kith_test_fetch_wait_done (whole, content, 30000);
    g_print ("pieces: %u MiB whole from 1 holder in %" G_GINT64_FORMAT " ms\n", PIECES_SIZE / PIECE,
             kith_test_fetch_get_elapsed_ms (whole));
    ck_assert_uint_eq (kith_test_node_peering_status (single, "bytes-from-pieces"), 0);
  }
  for (guint i = 0; i < 3; i++)
    kith_test_node_free (holders[i]);
}
END_TEST

typedef struct {
  guint64 honest;  /* what the two honest holders sent */
  guint64 dropped; /* pieces asked twice near the end, one copy dropped */
  guint64 attacker_max; /* the most the attacker sent on one GET */
  guint attacker_gets;  /* the GETs it answered */
  KithTestNode *requester;
} HostileRun;

/* Two honest holders and the attacker in @mode (kith-lan-attacker piece-*, serving the
 * same bytes): a fourth node fetches with the piece list and must end with the file,
 * without the origin. */
static void
hostile_run (const gchar *mode, guint32 seed, HostileRun *run)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (PIECES_SIZE, seed);
  g_autoptr (KithPieceList) pieces = make_pieces (content);
  g_autofree gchar *url = kith_test_origin_url (origin, "/hostile.bin");
  g_autofree gchar *size_text = g_strdup_printf ("%u", PIECES_SIZE);
  g_autofree gchar *seed_text = g_strdup_printf ("%u", seed);
  g_autofree gchar *sha256 = kith_test_sha256 (content);
  g_autoptr (KithTestFetch) fetch = NULL;
  g_autoptr (KithTestAttacker) attacker = NULL;
  KithTestNode *holders[2];
  guint64 before[2];
  guint origin_requests;

  kith_test_origin_add (origin, "/hostile.bin", content, 0);
  seed_holders (holders, 2, url, content);
  origin_requests = kith_test_origin_get_requests (origin, "/hostile.bin");
  for (guint i = 0; i < 2; i++)
    before[i] = served (holders[i]);
  attacker = kith_test_attacker_spawn (test_port, mode, size_text, seed_text);
  ck_assert_str_eq (attacker->sha256, sha256);
  run->requester = kith_test_node_start_peering (test_port, PIECES_PEERING);
  fetch = fetch_pieces_start (run->requester, url, content, pieces);
  kith_test_fetch_wait_done (fetch, content, 30000);
  run->honest = 0;
  for (guint i = 0; i < 2; i++) {
    guint64 sent = served (holders[i]) - before[i];
    g_print ("pieces (%s): honest holder %u sent %" G_GUINT64_FORMAT " bytes\n", mode, i, sent);
    run->honest += sent;
  }
  run->dropped = (guint64) kith_test_node_peering_counter (run->requester, "pieces", "result=\"dropped\"");
  ck_assert_uint_eq (kith_test_node_peering_counter (run->requester, "pieces", "result=\"ok\""), PIECES_SIZE / PIECE);
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/hostile.bin"), origin_requests);
  run->attacker_max = kith_test_attacker_stop (attacker);
  run->attacker_gets = attacker->connections;
  for (guint i = 0; i < 2; i++)
    kith_test_node_free (holders[i]);
}

/* A liar that serves the real bytes but gets its second piece wrong is banned on that
 * piece; its first piece and every piece the honest ones sent are kept — the honest
 * holders together send exactly the file minus the liar's good piece (none of theirs is
 * asked again), the bad piece comes from them, and the file is verified whole. */
START_TEST (test_piece_liar_banned_honest_kept)
{
  HostileRun run;

  hostile_run ("piece-liar", 52, &run);
  ck_assert_uint_eq (kith_test_node_peering_counter (run.requester, "pieces", "result=\"bad\""), 1);
  ck_assert_uint_eq (kith_test_node_peering_status (run.requester, "bad-peers"), 1);
  /* a piece asked of a second source near the end would show as dropped */
  ck_assert_uint_ge (run.honest, PIECES_SIZE - PIECE);
  ck_assert_uint_le (run.honest, PIECES_SIZE - PIECE + run.dropped * PIECE);
  ck_assert_uint_eq (run.attacker_max, PIECE); /* one piece per GET, never more */
  kith_test_node_free (run.requester);
}
END_TEST

/* A liar about what it has (kith-lan-attacker @mode: every byte it sends is right, its
 * piece map is not): the lie is counted (result=lied, never bad) and it is banned at once
 * — asked nothing after the answer that lied, the first @kept of its answers being pieces
 * kept — and the honest holders send exactly the rest: none of their pieces is asked
 * twice, but for a duplicate near the end (dropped). */
static void
check_map_liar (const gchar *mode, guint32 seed, guint kept)
{
  HostileRun run;

  hostile_run (mode, seed, &run);
  g_print ("pieces (%s): the liar answered %u GETs, %" G_GUINT64_FORMAT " dropped\n", mode, run.attacker_gets,
           run.dropped);
  ck_assert_uint_eq (kith_test_node_peering_counter (run.requester, "pieces", "result=\"lied\""), 1);
  ck_assert_uint_eq (kith_test_node_peering_counter (run.requester, "pieces", "result=\"bad\""), 0);
  ck_assert_uint_eq (kith_test_node_peering_status (run.requester, "bad-peers"), 1);
  ck_assert_uint_eq (run.attacker_gets, kept + 1);
  ck_assert_uint_ge (run.honest, PIECES_SIZE - kept * PIECE);
  ck_assert_uint_le (run.honest, PIECES_SIZE - kept * PIECE + run.dropped * PIECE);
  kith_test_node_free (run.requester);
}

/* A map of another file (twice the pieces) with its first answer: that piece is not kept. */
START_TEST (test_piece_map_foreign_banned)
{
  check_map_liar ("piece-map-foreign", 58, 0);
}
END_TEST

/* A map that no longer has the piece it served first: that piece (verified) is kept, the
 * one that came with the lie is not. */
START_TEST (test_piece_map_takeback_banned)
{
  check_map_liar ("piece-map-takeback", 59, 1);
}
END_TEST

/* A 416 for a piece its map claims. */
START_TEST (test_piece_map_refuse_banned)
{
  check_map_liar ("piece-map-refuse", 60, 1);
}
END_TEST

/* A source that sends 640 KB/s beside two fast ones loses its share: it keeps at most one
 * piece of 24 (its fair share is 8), a piece stuck on it is asked of a fast one too. */
START_TEST (test_slow_source_loses_share)
{
  HostileRun run;

  hostile_run ("piece-slow", 53, &run);
  ck_assert_uint_ge (run.honest, PIECES_SIZE - PIECE);
  ck_assert_uint_eq (kith_test_node_peering_status (run.requester, "bad-peers"), 0);
  kith_test_node_free (run.requester);
}
END_TEST

/* A source whose first piece breaks off halfway is backed off (a fault, not a lie) and
 * loses its pieces: the honest holders send the whole file, its half piece included. */
START_TEST (test_failed_source_loses_pieces)
{
  HostileRun run;

  hostile_run ("piece-cut", 54, &run);
  ck_assert_uint_eq (kith_test_node_peering_counter (run.requester, "pieces", "result=\"failed\""), 1);
  ck_assert_uint_eq (kith_test_node_peering_status (run.requester, "bad-peers"), 0);
  ck_assert_uint_eq (kith_test_node_peering_status (run.requester, "peer-backoffs"), 1);
  ck_assert_uint_eq (run.honest, PIECES_SIZE + run.dropped * PIECE);
  ck_assert_uint_eq (run.attacker_max, PIECE / 2);
  kith_test_node_free (run.requester);
}
END_TEST

#define STORM_NODES 3
#define STORM_HOLD (12 * PIECE)

typedef struct {
  KithTestFetch **fetches;
  guint n;
} Storm;

/* All but one fetch (the origin's) have verified pieces of a partial copy. */
static gboolean
storm_waiters_have_pieces (gpointer user_data)
{
  Storm *storm = user_data;
  guint reading = 0;

  for (guint i = 0; i < storm->n; i++) {
    KithDbusTransfer1 *proxy = storm->fetches[i]->proxy;
    reading += g_strcmp0 (kith_dbus_transfer1_get_state (proxy), "from-peer") == 0 &&
               kith_dbus_transfer1_get_bytes_done (proxy) >= PIECE;
  }
  return reading == storm->n - 1;
}

/* In-progress holders are sources: three nodes ask at once while the origin is held
 * halfway; the one elected fetches from the origin, the two others already have verified
 * pieces of the partial copies (the leader's, each other's) before the origin sends the
 * rest, and end with every piece checked; the origin served the file once. */
START_TEST (test_pieces_from_partial_copies)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (PIECES_SIZE, 55);
  g_autoptr (KithPieceList) pieces = make_pieces (content);
  g_autofree gchar *url = kith_test_origin_url (origin, "/storm.bin");
  KithTestNode *nodes[STORM_NODES];
  KithTestFetch *fetches[STORM_NODES];
  Storm storm = { fetches, STORM_NODES };
  guint from_pieces = 0;

  kith_test_origin_add (origin, "/storm.bin", content, 0);
  kith_test_origin_hold (origin, "/storm.bin", STORM_HOLD);
  for (guint i = 0; i < STORM_NODES; i++)
    nodes[i] = kith_test_node_start_peering (test_port, PIECES_PEERING);
  for (guint i = 0; i < STORM_NODES; i++)
    fetches[i] = fetch_pieces_start (nodes[i], url, content, pieces);
  if (!kith_test_wait_until (storm_waiters_have_pieces, &storm, 20000)) {
    for (guint i = 0; i < STORM_NODES; i++) {
      g_autofree gchar *log = kith_test_agent_get_log (nodes[i]->agent);
      g_print ("DEBUG %u %s %" G_GUINT64_FORMAT "\n%s\n", i, kith_dbus_transfer1_get_state (fetches[i]->proxy),
               kith_dbus_transfer1_get_bytes_done (fetches[i]->proxy), log);
    }
    ck_abort ();
  }
  kith_test_origin_release (origin, "/storm.bin");
  for (guint i = 0; i < STORM_NODES; i++) {
    guint64 bytes;
    kith_test_fetch_wait_done (fetches[i], content, 30000);
    bytes = kith_test_node_peering_status (nodes[i], "bytes-from-pieces");
    ck_assert (bytes == 0 || bytes == PIECES_SIZE);
    from_pieces += bytes == PIECES_SIZE;
  }
  ck_assert_uint_eq (from_pieces, STORM_NODES - 1);
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/storm.bin"), 1);
  for (guint i = 0; i < STORM_NODES; i++) {
    kith_test_fetch_free (fetches[i]);
    kith_test_node_free (nodes[i]);
  }
}
END_TEST

#define JOINERS 4

typedef struct {
  KithTestNode **nodes;
  guint n;
} Nodes;

/* Some of @nodes served bytes. */
static gboolean
nodes_served (gpointer user_data)
{
  Nodes *nodes = user_data;

  for (guint i = 0; i < nodes->n; i++)
    if (served (nodes->nodes[i]) > 0)
      return TRUE;
  return FALSE;
}

/* Joiners trade: a holder fetching from an origin that holds back the second half, and
 * four nodes that ask for the file in pieces at once, with the piece list. Nobody can
 * complete a copy while the origin holds, so whatever a joiner serves then is pieces of
 * its partial copy: each takes the rarest pieces first (at random among equals: they start
 * on different ones) and serves every piece it has verified, in any order, its piece map
 * saying which. Some joiner serves another before the origin sends the rest; in the end
 * every joiner has verified each piece once and has the file, the holder sent less than a
 * copy per joiner (the joiners the rest), and the origin was asked once. */
START_TEST (test_joiners_trade)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (PIECES_SIZE, 57);
  g_autoptr (KithPieceList) pieces = make_pieces (content);
  g_autofree gchar *url = kith_test_origin_url (origin, "/trade.bin");
  g_autofree gchar *sha256 = kith_test_sha256 (content);
  g_autoptr (KithTestNode) holder = NULL;
  g_autoptr (KithTestFetch) holder_fetch = NULL;
  KithTestNode *joiners[JOINERS];
  KithTestFetch *fetches[JOINERS];
  Nodes trading = { joiners, JOINERS };
  guint64 holder_sent, joined = 0;

  kith_test_origin_add (origin, "/trade.bin", content, 0);
  kith_test_origin_hold (origin, "/trade.bin", STORM_HOLD);
  holder = kith_test_node_start_peering (test_port, PIECES_PEERING);
  holder_fetch = kith_test_fetch_start (holder, url, sha256, PIECES_SIZE, FALSE);
  for (guint i = 0; i < JOINERS; i++)
    joiners[i] = kith_test_node_start_peering (test_port, PIECES_PEERING);
  for (guint i = 0; i < JOINERS; i++)
    fetches[i] = fetch_pieces_start (joiners[i], url, content, pieces);
  ck_assert_msg (kith_test_poll_until (nodes_served, &trading, 20000),
                 "no joiner served a piece of its partial copy while the origin held");
  for (guint i = 0; i < JOINERS; i++)
    ck_assert (!kith_test_fetch_is_finished (fetches[i]));
  kith_test_origin_release (origin, "/trade.bin");
  kith_test_fetch_wait_done (holder_fetch, content, 30000);
  for (guint i = 0; i < JOINERS; i++) {
    kith_test_fetch_wait_done (fetches[i], content, 30000);
    ck_assert_uint_eq (kith_test_node_peering_counter (joiners[i], "pieces", "result=\"ok\""), PIECES_SIZE / PIECE);
    ck_assert_uint_eq (kith_test_node_peering_counter (joiners[i], "pieces", "result=\"lied\""), 0);
    ck_assert_uint_eq (kith_test_node_peering_status (joiners[i], "bytes-from-pieces"), PIECES_SIZE);
    ck_assert_uint_eq (kith_test_node_peering_status (joiners[i], "bad-peers"), 0);
  }
  holder_sent = served (holder);
  for (guint i = 0; i < JOINERS; i++) {
    guint64 sent = served (joiners[i]);
    g_print ("pieces (trade): joiner %u served %" G_GUINT64_FORMAT " bytes, had the file in %" G_GINT64_FORMAT
             " ms\n", i, sent, kith_test_fetch_get_elapsed_ms (fetches[i]));
    joined += sent;
  }
  g_print ("pieces (trade): the holder served %" G_GUINT64_FORMAT " bytes, the joiners %" G_GUINT64_FORMAT "\n",
           holder_sent, joined);
  ck_assert_uint_lt (holder_sent, (guint64) JOINERS * PIECES_SIZE);
  ck_assert_uint_ge (holder_sent + joined, (guint64) JOINERS * PIECES_SIZE);
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/trade.bin"), 1);
  for (guint i = 0; i < JOINERS; i++) {
    kith_test_fetch_free (fetches[i]);
    kith_test_node_free (joiners[i]);
  }
}
END_TEST

typedef struct {
  KithTestFetch **fetches;
  guint n;
  guint64 bytes; /* each must have verified this much */
} Progress;

static gboolean
fetches_have (gpointer user_data)
{
  Progress *progress = user_data;

  for (guint i = 0; i < progress->n; i++)
    if (kith_dbus_transfer1_get_bytes_done (progress->fetches[i]->proxy) < progress->bytes)
      return FALSE;
  return TRUE;
}

/* mid-piece: the holder's partial copy has twelve whole pieces to give while the origin holds */
#define VANISH_HOLD (STORM_HOLD + PIECE / 2)

/* Verified pieces survive their sources: a holder fetching from an origin that holds back
 * the second half, and two nodes fetching in pieces from its partial copy and each other.
 * Once each has verified some pieces, the holder and one of them are killed: every source
 * of the other is gone, mid-fetch (some without a word: a copy it has nothing to ask of).
 * It keeps the pieces it verified, asks the LAN again (nobody) and takes from the origin
 * only the pieces it lacks — in ranges, less than the file, at most what it did not have
 * when the others died — and ends with the file, each piece verified once. */
START_TEST (test_pieces_kept_when_sources_vanish)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (PIECES_SIZE, 61);
  g_autoptr (KithPieceList) pieces = make_pieces (content);
  g_autofree gchar *url = kith_test_origin_url (origin, "/vanish.bin");
  g_autofree gchar *sha256 = kith_test_sha256 (content);
  g_autoptr (KithTestNode) holder = NULL;
  g_autoptr (KithTestFetch) holder_fetch = NULL;
  KithTestNode *nodes[2];
  KithTestFetch *fetches[2];
  Progress some = { fetches, 2, 2 * PIECE };
  guint64 had, before, from_origin;

  kith_test_origin_add (origin, "/vanish.bin", content, 0);
  kith_test_origin_hold (origin, "/vanish.bin", VANISH_HOLD);
  holder = kith_test_node_start_peering (test_port, PIECES_PEERING);
  holder_fetch = kith_test_fetch_start (holder, url, sha256, PIECES_SIZE, FALSE);
  for (guint i = 0; i < 2; i++)
    nodes[i] = kith_test_node_start_peering (test_port, PIECES_PEERING);
  for (guint i = 0; i < 2; i++)
    fetches[i] = fetch_pieces_start (nodes[i], url, content, pieces);
  ck_assert_msg (kith_test_wait_until (fetches_have, &some, 20000), "the fetchers have no pieces");
  /* the holder's whole download is held: the second half never leaves the origin for it */
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/vanish.bin"), 1);
  before = kith_test_origin_get_bytes (origin, "/vanish.bin");
  had = kith_dbus_transfer1_get_bytes_done (fetches[1]->proxy);
  kith_test_node_kill (holder);
  kith_test_node_kill (nodes[0]);
  kith_test_fetch_wait_done (fetches[1], content, 30000);
  from_origin = kith_test_origin_get_bytes (origin, "/vanish.bin") - before;
  g_print ("pieces (vanish): %" G_GUINT64_FORMAT " bytes verified when the sources went, %" G_GUINT64_FORMAT
           " from the origin after, the file in %" G_GINT64_FORMAT " ms\n",
           had, from_origin, kith_test_fetch_get_elapsed_ms (fetches[1]));
  ck_assert_uint_gt (from_origin, 0);
  ck_assert_uint_lt (from_origin, PIECES_SIZE);
  ck_assert_uint_le (from_origin, PIECES_SIZE - had);
  ck_assert_uint_eq (from_origin % PIECE, 0);
  ck_assert_uint_eq (kith_test_node_peering_counter (nodes[1], "pieces", "result=\"ok\""), PIECES_SIZE / PIECE);
  ck_assert_uint_eq (kith_test_node_peering_status (nodes[1], "bytes-from-pieces"), PIECES_SIZE);
  ck_assert_uint_eq (kith_test_node_peering_counter (nodes[1], "pieces", "result=\"lied\""), 0);
  kith_test_fetch_free (fetches[0]);
  kith_test_fetch_free (fetches[1]);
  kith_test_node_free (nodes[0]);
  kith_test_node_free (nodes[1]);
}
END_TEST

/* Verified pieces kept beside a source left that never has a piece to give (kith-lan-
 * attacker piece-map-empty: it says it holds the file and refuses every piece with a map
 * of none, no lie) when the only one that had pieces goes (piece-vanish: two pieces, then
 * its process ends): the fetch is not starved by the source that went, but nobody brings
 * a piece for stall-ms — that counts as starved too. The two pieces are kept and the
 * origin sends exactly the others, one range each; the empty source was asked, and
 * refused (missing); nobody is banned. */
START_TEST (test_pieces_kept_beside_an_empty_source)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (PIECES_SIZE, 62);
  g_autoptr (KithPieceList) pieces = make_pieces (content);
  g_autofree gchar *url = kith_test_origin_url (origin, "/empty.bin");
  g_autofree gchar *size_text = g_strdup_printf ("%u", PIECES_SIZE);
  g_autoptr (KithTestAttacker) empty = NULL;
  g_autoptr (KithTestAttacker) vanish = NULL;
  g_autoptr (KithTestNode) node = NULL;
  g_autoptr (KithTestFetch) fetch = NULL;
  guint64 from_origin;

  kith_test_origin_add (origin, "/empty.bin", content, 0);
  empty = kith_test_attacker_spawn (test_port, "piece-map-empty", size_text, "62");
  vanish = kith_test_attacker_spawn (test_port, "piece-vanish", size_text, "62");
  ck_assert_str_eq (empty->sha256, vanish->sha256);
  /* it knows neither as a holder, and must hear both */
  node = kith_test_node_start_peering (test_port, PIECES_PEERING KITH_TEST_MEET_THE_ATTACKER);
  fetch = fetch_pieces_start (node, url, content, pieces);
  kith_test_fetch_wait_done (fetch, content, 30000);
  from_origin = kith_test_origin_get_bytes (origin, "/empty.bin");
  g_print ("pieces (empty source): %" G_GUINT64_FORMAT " bytes from the origin, the file in %" G_GINT64_FORMAT " ms\n",
           from_origin, kith_test_fetch_get_elapsed_ms (fetch));
  ck_assert_uint_eq (from_origin, PIECES_SIZE - 2 * PIECE);
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/empty.bin"), PIECES_SIZE / PIECE - 2);
  ck_assert_uint_eq (kith_test_node_peering_counter (node, "pieces", "result=\"ok\""), PIECES_SIZE / PIECE);
  ck_assert_uint_ge (kith_test_node_peering_counter (node, "pieces", "result=\"missing\""), 1);
  ck_assert_uint_eq (kith_test_node_peering_counter (node, "pieces", "result=\"lied\""), 0);
  ck_assert_uint_eq (kith_test_node_peering_status (node, "bad-peers"), 0);
  ck_assert_uint_eq (kith_test_attacker_stop (vanish), PIECE);
  kith_test_attacker_stop (empty);
  ck_assert_uint_ge (empty->connections, 1);
}
END_TEST

typedef struct {
  KithTestNode *node;
  const gchar *type;
} HeardType;

/* @node heard a packet of type @type. */
static gboolean
heard_type (gpointer user_data)
{
  HeardType *heard = user_data;
  g_autofree gchar *labels = g_strdup_printf ("type=\"%s\"", heard->type);

  return kith_test_node_peering_counter (heard->node, "packets-in", labels) >= 1;
}

/* a holder ranked behind a named one answers a slot late: long enough for a downloader's
 * answer, which comes at once, to be in first */
#define LATE_HOLDER_PEERING "reply-slot-ms=300\nmax-delay-ms=400\nmiss-wait-ms=1000\nclient-wait-ms=2000\n"

/* A fetch in pieces started by an "I have" takes the partial copy heard of just before as a
 * source at once. H holds the file; R knows only X as a holder (X stored it from H, R heard
 * its "complete"; X is stopped since); L fetches it from an origin that holds back the second
 * half, and says so only every minute (progress-interval-ms). R asks in pieces, naming X: L
 * answers "downloading" at once, H (ranked behind the X named) "I have" a slot later, and
 * R's fetch in pieces starts from H — with L's partial copy as a source from the start: L
 * sends some of the pieces it has while the origin still holds. Before, L was a source only
 * once it spoke again or the fetch starved: H sent every piece. */
START_TEST (test_pieces_take_partial_copy_heard_before)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (PIECES_SIZE, 63);
  g_autoptr (KithPieceList) pieces = make_pieces (content);
  g_autofree gchar *url = kith_test_origin_url (origin, "/before.bin");
  g_autofree gchar *sha256 = kith_test_sha256 (content);
  g_autoptr (KithTestNode) h = kith_test_node_start_peering (test_port, PIECES_PEERING LATE_HOLDER_PEERING);
  g_autoptr (KithTestNode) r = NULL;
  g_autoptr (KithTestNode) x = NULL;
  g_autoptr (KithTestNode) l = NULL;
  g_autoptr (KithTestFetch) held = NULL;
  g_autoptr (KithTestFetch) fetch = NULL;
  HeardType complete = { NULL, "complete" };
  guint64 from_l, from_h;
  guint origin_requests;

  kith_test_origin_add (origin, "/before.bin", content, 0);
  g_free (kith_test_fetch_sync (h, url, sha256, FALSE, content));
  r = kith_test_node_start_peering (test_port, PIECES_PEERING "client-wait-ms=3000\n");
  x = kith_test_node_start_peering (test_port, PIECES_PEERING);
  g_free (kith_test_fetch_sync (x, url, sha256, FALSE, content));
  complete.node = r;
  ck_assert_msg (kith_test_poll_until (heard_type, &complete, 10000), "R never heard X's complete");
  kith_test_node_stop (x);
  kith_test_node_stop (h);
  origin_requests = kith_test_origin_get_requests (origin, "/before.bin");
  kith_test_origin_hold (origin, "/before.bin", STORM_HOLD);
  l = kith_test_node_start_peering (test_port, PIECES_PEERING "progress-interval-ms=60000\n");
  held = kith_test_fetch_start (l, url, sha256, PIECES_SIZE, FALSE);
  {
    Progress some = { &held, 1, STORM_HOLD };
    ck_assert_msg (kith_test_wait_until (fetches_have, &some, 20000), "L has not the held bytes");
  }
  ck_assert_str_eq (kith_dbus_transfer1_get_state (held->proxy), "from-origin");
  kith_test_node_start (h);
  ck_assert (kith_test_poll_until (kith_test_node_cache_verified, h, 10000));
  fetch = fetch_pieces_start (r, url, content, pieces);
  kith_test_fetch_wait_done (fetch, content, 30000);
  from_l = served (l);
  from_h = served (h);
  g_print ("pieces (heard before): L (growing) sent %" G_GUINT64_FORMAT " bytes, H %" G_GUINT64_FORMAT "\n",
           from_l, from_h);
  ck_assert_msg (from_l > 0, "the partial copy heard of before the \"I have\" sent nothing");
  ck_assert_uint_eq (from_l % PIECE, 0);
  ck_assert_uint_le (from_l, STORM_HOLD);
  ck_assert_uint_eq (kith_test_node_peering_counter (r, "pieces", "result=\"ok\""), PIECES_SIZE / PIECE);
  ck_assert_uint_eq (kith_test_node_peering_status (r, "bytes-from-origin"), 0);
  /* all of it while the origin held L's download: the second half came from H alone */
  ck_assert (!kith_test_fetch_is_finished (held));
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/before.bin"), origin_requests + 1);
  kith_test_origin_release (origin, "/before.bin");
  kith_test_fetch_wait_done (held, content, 30000);
}
END_TEST

/* The first source of a fetch in pieces fails at once, before its "found" is due
 * (max-delay-ms + 1 after it began): the fetch, starved, asks the LAN again, and the holders
 * that answer that request a slot late are not silenced by the "found" of the first one.
 * H holds the file; R knows only X as a holder (X stored it, R heard its "complete"; X is
 * stopped since), so R's requests name X and H answers each 300 ms late, after the "found"
 * due 101 ms after the first answer; the first answer is kith-lan-attacker's dead-then-good,
 * an alias at a closed port. R, cached-only, has the file from H after its second request:
 * two requests in all. Before, the "found" went out for the second request and cancelled
 * H's answer: R had no source until it gave up on the fetch in pieces after stall-ms and
 * searched a third time. */
START_TEST (test_pieces_reask_not_silenced_by_found)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (PIECES_SIZE, 64);
  g_autoptr (KithPieceList) pieces = make_pieces (content);
  g_autofree gchar *url = kith_test_origin_url (origin, "/reask.bin");
  g_autofree gchar *sha256 = kith_test_sha256 (content);
  g_autoptr (KithTestNode) h = kith_test_node_start_peering (test_port, PIECES_PEERING LATE_HOLDER_PEERING);
  g_autoptr (KithTestNode) r = NULL;
  g_autoptr (KithTestNode) x = NULL;
  g_autoptr (KithTestAttacker) dead = NULL;
  g_autoptr (KithTestFetch) fetch = NULL;
  HeardType complete = { NULL, "complete" };
  guint64 before;

  kith_test_origin_add (origin, "/reask.bin", content, 0);
  g_free (kith_test_fetch_sync (h, url, sha256, FALSE, content));
  r = kith_test_node_start_peering (test_port, "max-delay-ms=100\nclient-wait-ms=1000\nstall-ms=2000\n");
  x = kith_test_node_start_peering (test_port, PIECES_PEERING);
  g_free (kith_test_fetch_sync (x, url, sha256, FALSE, content));
  complete.node = r;
  ck_assert_msg (kith_test_poll_until (heard_type, &complete, 10000), "R never heard X's complete");
  kith_test_node_stop (x);
  dead = kith_test_attacker_spawn (test_port, "dead-then-good", url, NULL);
  before = served (h);
  fetch = fetch_pieces_start_full (r, url, content, pieces, TRUE);
  kith_test_fetch_wait_done (fetch, content, 30000);
  g_print ("pieces (re-ask): the file in %" G_GINT64_FORMAT " ms, %.0f requests\n",
           kith_test_fetch_get_elapsed_ms (fetch),
           kith_test_node_peering_counter (r, "packets-out", "type=\"request\""));
  ck_assert_uint_eq (kith_test_node_peering_counter (r, "packets-out", "type=\"request\""), 2);
  ck_assert_uint_eq (kith_test_node_peering_counter (r, "pieces", "result=\"ok\""), PIECES_SIZE / PIECE);
  ck_assert_uint_eq (served (h) - before, PIECES_SIZE);
  kith_test_attacker_stop (dead);
}
END_TEST

#ifdef KITH_TEST_PIECES_UPDATE
/* A node of @backend with the update plugin, its check an hour away (the test asks). */
static KithTestNode *
update_node_start (KithTestBackend *backend)
{
  g_autofree gchar *peering = kith_test_node_peering_config (test_port, PIECES_PEERING);
  g_autofree gchar *config = g_strdup_printf ("backend-url=%s\ntrust-anchor=%s\n%s[update]\nfirst-check=1h\n",
                                              kith_test_backend_get_url (backend),
                                              kith_test_backend_get_ca (backend), peering);
  return kith_test_node_start_new ("peering;update", config);
}

static void
update_check (KithTestNode *node)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (node->connection, NULL, "/org/kith/Agent1/Update",
                                                            "org.kith.Update1", "Check", NULL, G_VARIANT_TYPE ("(s)"),
                                                            G_DBUS_CALL_FLAGS_NONE, 60000, NULL, &error);
  const gchar *result = NULL;

  ck_assert_msg (reply != NULL, "Check(): %s", error != NULL ? error->message : "");
  g_variant_get (reply, "(&s)", &result);
  ck_assert_msg (g_str_has_prefix (result, "installed catalog 1"), "%s", result);
}

/* The whole path: kith-backend publish lists the pieces of a 12 MiB file in the signed
 * catalog, the update plugin passes them to peering, and the third node to install the
 * release takes that file in pieces from the two that have it; it leaves the backend
 * once. */
START_TEST (test_release_in_pieces)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  g_autoptr (GBytes) content = kith_test_make_content (12 * PIECE, 56);
  g_autofree gchar *src = g_dir_make_tmp ("kith-pieces-XXXXXX", NULL);
  g_autofree gchar *file = g_build_filename (src, "engine-2611211200.bin", NULL);
  KithTestNode *nodes[3];
  guint64 before[2];

  ck_assert (g_file_set_contents (file, g_bytes_get_data (content, NULL), (gssize) g_bytes_get_size (content), NULL));
  kith_test_backend_publish (backend, src);
  kith_test_backend_serve (backend, NULL);
  for (guint i = 0; i < 3; i++)
    nodes[i] = update_node_start (backend);
  update_check (nodes[0]);
  update_check (nodes[1]);
  for (guint i = 0; i < 2; i++)
    before[i] = served (nodes[i]);
  update_check (nodes[2]);
  for (guint i = 0; i < 2; i++)
    ck_assert_msg (served (nodes[i]) > before[i], "node %u sent no piece", i);
  ck_assert_uint_eq (served (nodes[0]) + served (nodes[1]) - before[0] - before[1], 12 * PIECE);
  ck_assert_uint_eq (kith_test_node_peering_status (nodes[2], "bytes-from-pieces"), 12 * PIECE);
  ck_assert_uint_eq (kith_test_node_peering_counter (nodes[2], "pieces", "result=\"ok\""), 12);
  ck_assert_uint_eq (kith_test_backend_get_requests (backend, "/files/engine-2611211200.bin"), 1);
  for (guint i = 0; i < 3; i++)
    kith_test_node_free (nodes[i]);
  kith_test_rm_rf (src);
}
END_TEST
#endif

static Suite *
pieces_suite (void)
{
  Suite *suite = suite_create ("pieces");
  TCase *tc = tcase_create ("pieces");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_pieces_from_three_holders);
  tcase_add_test (tc, test_piece_liar_banned_honest_kept);
  tcase_add_test (tc, test_piece_map_foreign_banned);
  tcase_add_test (tc, test_piece_map_takeback_banned);
  tcase_add_test (tc, test_piece_map_refuse_banned);
  tcase_add_test (tc, test_slow_source_loses_share);
  tcase_add_test (tc, test_failed_source_loses_pieces);
  tcase_add_test (tc, test_pieces_from_partial_copies);
  tcase_add_test (tc, test_joiners_trade);
  tcase_add_test (tc, test_pieces_kept_when_sources_vanish);
  tcase_add_test (tc, test_pieces_kept_beside_an_empty_source);
  tcase_add_test (tc, test_pieces_take_partial_copy_heard_before);
  tcase_add_test (tc, test_pieces_reask_not_silenced_by_found);
#ifdef KITH_TEST_PIECES_UPDATE
  tcase_add_test (tc, test_release_in_pieces);
#endif
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (int argc, char **argv)
{
  test_port = g_random_int_range (20000, 60000);
  return kith_test_run_suite (pieces_suite ());
}
