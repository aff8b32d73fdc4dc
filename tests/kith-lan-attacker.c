/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-lan-attacker.c — a hostile node on the loopback LAN, as its own process: it speaks
 * docs/protocol.md over UDP and serves bytes of its own choosing over plain HTTP. The
 * hostile-lan, hostile-peering, peering, update and apt suites run it.
 *
 *   kith-lan-attacker PORT MODE [ARGS]
 *
 * MODE (the first four answer every "I need" at once, with its own alias)
 *   have [SIZE [SHA256]]  "I have" SIZE bytes (default 65536) with the sha256 of its own
 *                         (poisoned) bytes, or SHA256 (another file's: a liar)
 *   complete URL          the same, and a bare "complete" (and "downloading") for URL every
 *                         50 ms naming its poisoned copy
 *   alias URL             "I have" with URL as the alias (SSRF, file://, …)
 *   stream SIZE SHA256    "I have" SIZE bytes with SHA256 (the real file's), then streams up
 *                         to 300 MB, close-delimited
 *   request-flood HREF    every 50 ms a "request" for HREF from a new node id, each lower
 *                         than the last
 *   downloading HREF      every 1 s "downloading" HREF, progress that never moves, never
 *                         "complete"
 *   spoof-found           answers every "request" at once with a "found" in the requester's
 *                         name
 *   amplify HREF N        N "request"s for HREF (new node ids), then prints "responses R"
 *                         for the unicast answers it got within 2 s, and ends
 *   dead-then-good URL [URL]  fetches the URLs itself before it is ready, then answers
 *                         "request"s for them at once with "I have" their bytes (a holder,
 *                         not a fetcher: a requester that knows no holder waits only
 *                         miss-wait-ms): the first alias names a closed port, later ones its
 *                         own HTTP server
 *   piece-liar SIZE SEED  "I have" SIZE bytes with their real sha256: the bytes of
 *                         kith_test_make_content (SIZE, SEED), one byte range per GET (206);
 *                         the second range it serves has one byte wrong (a liar that only a
 *                         piece list catches before the end)
 *   piece-slow SIZE SEED  the same, all ranges right, at 64 KiB per 100 ms
 *   piece-cut SIZE SEED   the same, all ranges right, but the first one it serves is cut
 *                         off halfway (the connection closed: a fault, not a lie)
 *   piece-map-foreign SIZE SEED  the same, all ranges right, each with a Kith-Pieces map
 *                         of another file: twice as many pieces (of half the size of the
 *                         first range asked), all set
 *   piece-map-takeback SIZE SEED  all ranges right, the first with a map of every piece,
 *                         the later ones with a map that no longer has the first piece
 *                         it served
 *   piece-map-refuse SIZE SEED  a map of every piece with each answer, but the second
 *                         range asked is refused (416)
 *   piece-map-empty SIZE SEED  every range refused (416) with a map of no piece: no lie,
 *                         a source that never has anything to give (node id bad1…, so
 *                         that it may run beside another mode)
 *   piece-vanish SIZE SEED  two ranges right, then it is gone (the process ends)
 *   (the maps count pieces of the size of the first range asked: a test's pieces are all
 *   of one size)
 *   cut SIZE SEED         "I have" SIZE bytes with their real sha256 (the bytes of
 *                         kith_test_make_content (SIZE, SEED)); its first answer promises all
 *                         of them (200) but sends only the first SIZE / 3 and closes (a fault:
 *                         a holder that died mid-way); later ones send the whole file
 *   cut-late SIZE SEED    the same, but the first answer holds the connection open after SIZE / 3
 *                         bytes until it hears another node's "complete" (a holder that came
 *                         after), then closes it
 *   cut-then-lie SIZE SEED  as cut; after its first answer it answers "I need" as another node
 *                         (bad2…), whose answer to "bytes=N-" is a 206 of bytes 0-(SIZE-N-1):
 *                         the right length, from the wrong place
 *   cut-then-whole SIZE SEED  as cut-then-lie, but bad2 ignores the range: 200 and the whole file
 *   cut-poison SIZE SEED  as cut, but the third its first answer sends is not the file's
 *   cut-late-poison SIZE SEED  as cut-late, but the third its first answer sends is not the
 *                         file's (a host that gets the holder that sends the rest blamed)
 *   cut-size SIZE SEED    as cut, but it announces (and its answers promise) 1000 bytes more
 *                         than the file has
 *
 * It prints "ready ALIAS-BASE SHA256" once listening (SHA256 of what it claims to have, "-"
 * for none), and "sent N" for every HTTP connection it served (N = body bytes written). It
 * stops when stdin closes, or after 120 s. */
#include <gio/gio.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kith-packet.h"
#include "kith-test-child.h"
#include "kith-test-origin.h"
#include "kith-transport.h"

#define ATTACKER_NODE "bad0bad0bad0bad0bad0bad0bad0bad0"
#define ATTACKER_EMPTY_NODE "bad1bad1bad1bad1bad1bad1bad1bad1"
/* the cut-then-* modes' second identity, after the first answer */
#define ATTACKER_SECOND_NODE "bad2bad2bad2bad2bad2bad2bad2bad2"
/* the prefix of the ever-lower node ids it makes up (and ignores when they come back) */
#define ATTACKER_LOW_PREFIX "000000000000000000000000"
#define ATTACKER_STREAM_MAX (300ull * 1024 * 1024)
#define ATTACKER_CHUNK (64 * 1024)

typedef struct _Attacker Attacker;

typedef struct {
  const gchar *name;
  guint min_args;
  guint max_args;
  gboolean answers_have; /* answers every "I need" with its own alias */
  void (*start) (Attacker *self);
  void (*datagram) (Attacker *self, const KithPacket *packet, GSocketAddress *from);
} AttackerMode;

struct _Attacker {
  GMainLoop *loop;
  KithTransport *transport;
  const AttackerMode *mode;
  gchar **args;
  guint n_args;
  GSocketService *service;
  gchar *alias_base;
  /* what it claims to have, and the bytes it serves for it */
  GBytes *poison;
  gchar *claimed_sha256;
  guint64 promised;
  /* request-flood, amplify */
  guint32 counter;
  guint responses;
  /* dead-then-good: the files it fetched, sha256 → GBytes, and their URLs, URL → sha256 */
  GHashTable *files;
  GHashTable *hrefs;
  guint answered;
  /* piece-map-*: the size of the first range asked, and the piece it was */
  guint64 piece_size;
  guint64 first_piece;
  /* cut*: the HTTP answers begun, and (cut-late) the cut one held open */
  guint cuts_served;
  struct _Client *held;
};

typedef struct _Client {
  Attacker *attacker;
  GSocketConnection *connection;
  guint8 request[4096];
  gsize request_len;
  GBytes *body; /* NULL: zeros (stream) */
  guint8 *chunk;
  guint64 sent;
  guint64 body_len;
  gboolean hold; /* cut-late: kept open once its body is out, until a "complete" */
} Client;

static void
attacker_send (Attacker *self, KithPacket *packet, GSocketAddress *to)
{
  g_autoptr (GBytes) bytes = kith_packet_write (packet, NULL);

  if (bytes == NULL)
    return;
  if (to != NULL)
    kith_transport_send_to (self->transport, bytes, to, NULL);
  else
    kith_transport_broadcast (self->transport, bytes, NULL);
}

/* ---- "I have": have, complete, alias, stream ---- */

static gchar *
attacker_alias (Attacker *self)
{
  if (g_strcmp0 (self->mode->name, "alias") == 0)
    return g_strdup (self->args[0]);
  return g_strdup_printf ("%s%s", self->alias_base, self->claimed_sha256);
}

static void
attacker_answer_have (Attacker *self, const KithPacket *request, GSocketAddress *from)
{
  g_autoptr (KithPacket) reply = NULL;

  if (request->type != KITH_PACKET_TYPE_REQUEST || request->method != KITH_PACKET_METHOD_GET)
    return;
  reply = kith_packet_new (KITH_PACKET_TYPE_RESPONSE);
  reply->id = request->id;
  if (g_strcmp0 (self->mode->name, "piece-map-empty") == 0)
    reply->node = g_strdup (ATTACKER_EMPTY_NODE);
  else if (g_str_has_prefix (self->mode->name, "cut-then-") && self->cuts_served > 0)
    reply->node = g_strdup (ATTACKER_SECOND_NODE);
  else
    reply->node = g_strdup (ATTACKER_NODE);
  reply->alias = attacker_alias (self);
  reply->size = self->promised + (g_strcmp0 (self->mode->name, "cut-size") == 0 ? 1000 : 0);
  reply->sha256 = g_strdup (self->claimed_sha256);
  attacker_send (self, reply, from);
}

/* The poisoned bytes it serves: @size of its own, claimed with @sha256 (NULL: their own). */
static void
attacker_set_poison (Attacker *self, guint64 size, const gchar *sha256)
{
  self->poison = kith_test_make_content (size, 0xbad);
  self->claimed_sha256 = sha256 != NULL ? g_strdup (sha256) : kith_test_sha256 (self->poison);
  self->promised = size;
}

static void
attacker_start_have (Attacker *self)
{
  attacker_set_poison (self, self->n_args > 0 ? g_ascii_strtoull (self->args[0], NULL, 10) : 65536,
                       self->n_args > 1 ? self->args[1] : NULL);
}

static void
attacker_start_poison (Attacker *self)
{
  attacker_set_poison (self, 65536, NULL);
}

static gboolean
attacker_announce_tick (gpointer user_data)
{
  Attacker *self = user_data;
  g_autoptr (KithPacket) downloading = kith_packet_new (KITH_PACKET_TYPE_DOWNLOADING);
  g_autoptr (KithPacket) complete = kith_packet_new (KITH_PACKET_TYPE_COMPLETE);

  downloading->node = g_strdup (ATTACKER_NODE);
  downloading->href = g_strdup (self->args[0]);
  downloading->alias = g_strdup (self->alias_base);
  downloading->done = self->promised / 2;
  downloading->total = self->promised;
  attacker_send (self, downloading, NULL);
  complete->node = g_strdup (ATTACKER_NODE);
  complete->href = g_strdup (self->args[0]);
  complete->alias = attacker_alias (self);
  complete->size = self->promised;
  complete->sha256 = g_strdup (self->claimed_sha256);
  attacker_send (self, complete, NULL);
  return G_SOURCE_CONTINUE;
}

static void
attacker_start_complete (Attacker *self)
{
  attacker_start_poison (self);
  g_timeout_add (50, attacker_announce_tick, self);
}

static void
attacker_start_stream (Attacker *self)
{
  attacker_set_poison (self, g_ascii_strtoull (self->args[0], NULL, 10),
                       self->n_args > 1 ? self->args[1] : NULL);
}

/* ---- requests of its own: request-flood, amplify ---- */

/* Ever-lower node ids: below any random id an agent draws (but the all-zero one). */
static gchar *
attacker_next_low_node (Attacker *self)
{
  return g_strdup_printf (ATTACKER_LOW_PREFIX "%08x", 0xfffffff0u - self->counter++);
}

static gboolean
attacker_request_tick (gpointer user_data)
{
  Attacker *self = user_data;
  g_autoptr (KithPacket) request = kith_packet_new (KITH_PACKET_TYPE_REQUEST);

  request->id = g_random_int ();
  request->node = attacker_next_low_node (self);
  request->href = g_strdup (self->args[0]);
  request->acceptprotocol = g_strdup ("http");
  attacker_send (self, request, NULL);
  return G_SOURCE_CONTINUE;
}

static void
attacker_start_flood (Attacker *self)
{
  g_timeout_add (50, attacker_request_tick, self);
}

static gboolean
attacker_amplify_report (gpointer user_data)
{
  Attacker *self = user_data;

  g_print ("responses %u\n", self->responses);
  g_main_loop_quit (self->loop);
  return G_SOURCE_REMOVE;
}

static void
attacker_start_amplify (Attacker *self)
{
  guint n = atoi (self->args[1]);

  for (guint i = 0; i < n; i++)
    attacker_request_tick (self);
  g_timeout_add (2000, attacker_amplify_report, self);
}

static void
attacker_count_response (Attacker *self, const KithPacket *packet, GSocketAddress *from)
{
  if (packet->type == KITH_PACKET_TYPE_RESPONSE)
    self->responses++;
}

/* ---- downloading, spoof-found ---- */

static gboolean
attacker_downloading_tick (gpointer user_data)
{
  Attacker *self = user_data;
  g_autoptr (KithPacket) packet = kith_packet_new (KITH_PACKET_TYPE_DOWNLOADING);

  packet->node = g_strdup (ATTACKER_NODE);
  packet->href = g_strdup (self->args[0]);
  packet->alias = g_strdup ("http://127.0.0.1:9/alias/");
  packet->done = 1000;
  packet->total = 10 * 1000 * 1000;
  attacker_send (self, packet, NULL);
  return G_SOURCE_CONTINUE;
}

static void
attacker_start_downloading (Attacker *self)
{
  attacker_downloading_tick (self);
  g_timeout_add (1000, attacker_downloading_tick, self);
}

static void
attacker_spoof_found (Attacker *self, const KithPacket *packet, GSocketAddress *from)
{
  g_autoptr (KithPacket) found = NULL;

  if (packet->type != KITH_PACKET_TYPE_REQUEST)
    return;
  found = kith_packet_new (KITH_PACKET_TYPE_FOUND);
  found->id = packet->id;
  found->node = g_strdup (packet->node);
  attacker_send (self, found, NULL);
}

/* ---- dead-then-good: a fault first, then honest answers ---- */

/* Each URL of its arguments, fetched before it says it is ready: when a request comes it
 * holds the bytes already and answers at once, as a holder does. Exits if one cannot be had. */
static void
attacker_start_dead_then_good (Attacker *self)
{
  g_autoptr (SoupSession) session = soup_session_new ();

  self->files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
  self->hrefs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < self->n_args; i++) {
    g_autoptr (SoupMessage) msg = soup_message_new ("GET", self->args[i]);
    g_autoptr (GError) error = NULL;
    g_autoptr (GBytes) body = msg != NULL ? soup_session_send_and_read (session, msg, NULL, &error) : NULL;

    if (body == NULL || soup_message_get_status (msg) != SOUP_STATUS_OK) {
      g_printerr ("kith-lan-attacker: cannot fetch %s: %s\n", self->args[i],
                  error != NULL ? error->message : msg != NULL ? soup_message_get_reason_phrase (msg) : "not a URL");
      exit (1);
    }
    g_hash_table_replace (self->hrefs, g_strdup (self->args[i]), g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, body));
    g_hash_table_replace (self->files, g_strdup (g_hash_table_lookup (self->hrefs, self->args[i])), g_bytes_ref (body));
  }
}

static void
attacker_answer_fetched (Attacker *self, const KithPacket *request, GSocketAddress *from)
{
  g_autoptr (KithPacket) reply = NULL;
  const gchar *sha256;

  if (request->type != KITH_PACKET_TYPE_REQUEST || request->href == NULL ||
      (sha256 = g_hash_table_lookup (self->hrefs, request->href)) == NULL)
    return;
  reply = kith_packet_new (KITH_PACKET_TYPE_RESPONSE);
  reply->id = request->id;
  reply->node = g_strdup (ATTACKER_NODE);
  reply->href = g_strdup (request->href);
  /* the first answer names a port nobody listens on: a fault, not a lie */
  reply->alias = self->answered++ == 0 ? g_strdup_printf ("http://127.0.0.1:9/alias/%s", sha256)
                                       : g_strdup_printf ("%s%s", self->alias_base, sha256);
  reply->size = g_bytes_get_size (g_hash_table_lookup (self->files, sha256));
  reply->sha256 = g_strdup (sha256);
  attacker_send (self, reply, from);
}

/* ---- piece-liar: the real bytes, but one piece wrong ---- */

static void
attacker_start_pieces (Attacker *self)
{
  guint64 size = g_ascii_strtoull (self->args[0], NULL, 10);

  self->poison = kith_test_make_content (size, (guint32) g_ascii_strtoull (self->args[1], NULL, 10));
  self->claimed_sha256 = kith_test_sha256 (self->poison);
  self->promised = size;
}

/* The range a piece-liar GET asks for ("Range: bytes=A-B"), its bytes (the second wrong). */
static GBytes *
attacker_piece_body (Attacker *self, const gchar *head, guint64 *start, guint64 *end)
{
  const gchar *range = strstr (head, "\r\nRange: bytes=");
  gchar *rest = NULL;
  g_autofree guint8 *copy = NULL;
  gsize len;

  if (range == NULL)
    return NULL;
  *start = g_ascii_strtoull (range + strlen ("\r\nRange: bytes="), &rest, 10);
  if (rest == NULL || *rest != '-')
    return NULL;
  *end = g_ascii_strtoull (rest + 1, NULL, 10);
  if (*end < *start || *end >= self->promised)
    return NULL;
  len = (gsize) (*end - *start + 1);
  copy = g_memdup2 ((const guint8 *) g_bytes_get_data (self->poison, NULL) + *start, len);
  if (++self->answered == 2 && g_strcmp0 (self->mode->name, "piece-liar") == 0)
    copy[len / 2] ^= 0x5a;
  return g_bytes_new_take (g_steal_pointer (&copy), len);
}

/* piece-map-*: the Kith-Pieces header line of its answer to a range at @start, ""
 * for the modes without one. */
static gchar *
attacker_piece_map (Attacker *self, guint64 start, guint64 end)
{
  gboolean foreign = g_strcmp0 (self->mode->name, "piece-map-foreign") == 0;
  g_autoptr (GString) hex = g_string_new (NULL);
  guint64 size, count;
  g_autofree guint8 *bits = NULL;

  if (!g_str_has_prefix (self->mode->name, "piece-map-"))
    return g_strdup ("");
  if (self->piece_size == 0) {
    self->piece_size = end - start + 1;
    self->first_piece = start / self->piece_size;
  }
  size = foreign ? MAX (self->piece_size / 2, 1) : self->piece_size;
  count = (self->promised + size - 1) / size;
  bits = g_malloc0 ((gsize) (count + 7) / 8);
  for (guint64 i = 0; i < count && g_strcmp0 (self->mode->name, "piece-map-empty") != 0; i++)
    bits[i / 8] |= (guint8) (0x80 >> (i % 8));
  /* piece-map-takeback: after its first answer, the first piece it served is gone */
  if (g_strcmp0 (self->mode->name, "piece-map-takeback") == 0 && self->answered > 1)
    bits[self->first_piece / 8] &= (guint8) ~(0x80 >> (self->first_piece % 8));
  for (guint64 i = 0; i < (count + 7) / 8; i++)
    g_string_append_printf (hex, "%02x", bits[i]);
  return g_strdup_printf ("Kith-Pieces: %s\r\n", hex->str);
}

/* ---- cut*: the real file, cut off a third of the way ---- */

static void client_free (struct _Client *client);

/* cut-late: the held answer ends once another node announces it holds the file. */
static void
attacker_cut_on_complete (Attacker *self, const KithPacket *packet, GSocketAddress *from)
{
  if (packet->type == KITH_PACKET_TYPE_COMPLETE && self->held != NULL) {
    struct _Client *held = self->held;
    self->held = NULL;
    client_free (held);
  }
}

static const AttackerMode attacker_modes[] = {
  { "have", 0, 2, TRUE, attacker_start_have, NULL },
  { "complete", 1, 1, TRUE, attacker_start_complete, NULL },
  { "alias", 1, 1, TRUE, attacker_start_poison, NULL },
  { "stream", 1, 2, TRUE, attacker_start_stream, NULL },
  { "request-flood", 1, 1, FALSE, attacker_start_flood, NULL },
  { "downloading", 1, 1, FALSE, attacker_start_downloading, NULL },
  { "spoof-found", 0, 0, FALSE, NULL, attacker_spoof_found },
  { "amplify", 2, 2, FALSE, attacker_start_amplify, attacker_count_response },
  { "dead-then-good", 1, 2, FALSE, attacker_start_dead_then_good, attacker_answer_fetched },
  { "piece-liar", 2, 2, TRUE, attacker_start_pieces, NULL },
  { "piece-slow", 2, 2, TRUE, attacker_start_pieces, NULL },
  { "piece-cut", 2, 2, TRUE, attacker_start_pieces, NULL },
  { "piece-map-foreign", 2, 2, TRUE, attacker_start_pieces, NULL },
  { "piece-map-takeback", 2, 2, TRUE, attacker_start_pieces, NULL },
  { "piece-map-refuse", 2, 2, TRUE, attacker_start_pieces, NULL },
  { "piece-map-empty", 2, 2, TRUE, attacker_start_pieces, NULL },
  { "piece-vanish", 2, 2, TRUE, attacker_start_pieces, NULL },
  { "cut", 2, 2, TRUE, attacker_start_pieces, NULL },
  { "cut-late", 2, 2, TRUE, attacker_start_pieces, attacker_cut_on_complete },
  { "cut-late-poison", 2, 2, TRUE, attacker_start_pieces, attacker_cut_on_complete },
  { "cut-then-lie", 2, 2, TRUE, attacker_start_pieces, NULL },
  { "cut-then-whole", 2, 2, TRUE, attacker_start_pieces, NULL },
  { "cut-poison", 2, 2, TRUE, attacker_start_pieces, NULL },
  { "cut-size", 2, 2, TRUE, attacker_start_pieces, NULL },
};

static void
attacker_datagram (KithTransport *transport, GBytes *data, GSocketAddress *from, Attacker *self)
{
  gsize len = 0;
  const guint8 *raw = g_bytes_get_data (data, &len);
  g_autoptr (KithPacket) packet = kith_packet_parse (raw, len, NULL);

  if (packet == NULL || packet->node == NULL || g_str_has_prefix (packet->node, ATTACKER_LOW_PREFIX) ||
      g_strcmp0 (packet->node, ATTACKER_NODE) == 0 || g_strcmp0 (packet->node, ATTACKER_EMPTY_NODE) == 0 ||
      g_strcmp0 (packet->node, ATTACKER_SECOND_NODE) == 0)
    return; /* unparsable, or one of ours */
  if (self->mode->answers_have)
    attacker_answer_have (self, packet, from);
  if (self->mode->datagram != NULL)
    self->mode->datagram (self, packet, from);
}

/* ---- its HTTP server: raw sockets, so that a body can be endless and is counted ---- */

static void
client_free (Client *client)
{
  Attacker *self = client->attacker;

  g_print ("sent %" G_GUINT64_FORMAT "\n", client->sent);
  /* piece-vanish: gone after its second range, like a host switched off */
  if (g_strcmp0 (self->mode->name, "piece-vanish") == 0 && self->answered >= 2)
    g_main_loop_quit (self->loop);
  g_io_stream_close (G_IO_STREAM (client->connection), NULL, NULL);
  g_object_unref (client->connection);
  g_clear_pointer (&client->body, g_bytes_unref);
  g_free (client->chunk);
  g_free (client);
}

static void client_write_body (Client *client);

static gboolean
client_write_later (gpointer user_data)
{
  client_write_body (user_data);
  return G_SOURCE_REMOVE;
}

static void
client_wrote (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Client *client = user_data;
  gssize n = g_output_stream_write_finish (G_OUTPUT_STREAM (source), result, NULL);

  if (n <= 0) {
    client_free (client);
    return;
  }
  client->sent += n;
  if (g_strcmp0 (client->attacker->mode->name, "piece-slow") == 0)
    g_timeout_add (100, client_write_later, client);
  else
    client_write_body (client);
}

static void
client_write_body (Client *client)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (client->connection));
  gsize n = (gsize) MIN ((guint64) ATTACKER_CHUNK, client->body_len - client->sent);

  if (n == 0 && client->hold) {
    client->attacker->held = client;
    return;
  }
  if (n == 0) {
    client_free (client);
    return;
  }
  if (client->body != NULL)
    memcpy (client->chunk, (const guint8 *) g_bytes_get_data (client->body, NULL) + client->sent, n);
  g_output_stream_write_async (out, client->chunk, n, G_PRIORITY_DEFAULT, NULL, client_wrote, client);
}

static void
client_wrote_head (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Client *client = user_data;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL)) {
    client_free (client);
    return;
  }
  client_write_body (client);
}

/* What it serves for the request: its poison for any path, or (dead-then-good) the file
 * /alias/SHA256 names; NULL when it has nothing. */
static GBytes *
client_find_body (Client *client)
{
  Attacker *self = client->attacker;
  g_autofree gchar *head = g_strndup ((const gchar *) client->request, client->request_len);
  g_auto (GStrv) words = g_strsplit_set (head, " \r\n", 3);
  GBytes *file;

  if (self->files == NULL)
    return self->poison != NULL ? g_bytes_ref (self->poison) : NULL;
  if (g_strv_length (words) < 2 || !g_str_has_prefix (words[1], "/alias/"))
    return NULL;
  file = g_hash_table_lookup (self->files, words[1] + strlen ("/alias/"));
  return file != NULL ? g_bytes_ref (file) : NULL;
}

static void
client_respond (Client *client)
{
  Attacker *self = client->attacker;
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (client->connection));
  static gchar head[512];
  gboolean head_request = strncmp ((const gchar *) client->request, "HEAD ", 5) == 0;

  client->chunk = g_malloc0 (ATTACKER_CHUNK);
  if (g_str_has_prefix (self->mode->name, "piece-")) {
    g_autofree gchar *text = g_strndup ((const gchar *) client->request, client->request_len);
    guint64 start = 0, end = 0;
    g_autofree gchar *map = NULL;
    client->body = attacker_piece_body (self, text, &start, &end);
    map = client->body != NULL ? attacker_piece_map (self, start, end) : g_strdup ("");
    /* piece-map-refuse: the second range is refused, though its map claims it */
    if ((g_strcmp0 (self->mode->name, "piece-map-refuse") == 0 && self->answered == 2) ||
        g_strcmp0 (self->mode->name, "piece-map-empty") == 0)
      g_clear_pointer (&client->body, g_bytes_unref);
    client->body_len = client->body != NULL ? g_bytes_get_size (client->body) : 0;
    /* piece-cut: the first range ends halfway, though its head promises all of it */
    if (g_strcmp0 (self->mode->name, "piece-cut") == 0 && self->answered == 1)
      client->body_len /= 2;
    if (client->body != NULL)
      g_snprintf (head, sizeof head,
                  "HTTP/1.1 206 Partial Content\r\nContent-Length: %" G_GSIZE_FORMAT "\r\nContent-Range: bytes %"
                  G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "\r\n%sConnection: close\r\n\r\n",
                  g_bytes_get_size (client->body), start, end, self->promised, map);
    else
      g_snprintf (head, sizeof head, "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\n%s"
                  "Connection: close\r\n\r\n", map);
  } else if (g_str_has_prefix (self->mode->name, "cut")) {
    g_autofree gchar *text = g_strndup ((const gchar *) client->request, client->request_len);
    const gchar *range = strstr (text, "\r\nRange: bytes=");
    guint64 from = range != NULL ? g_ascii_strtoull (range + strlen ("\r\nRange: bytes="), NULL, 10) : 0;
    gboolean first = self->cuts_served++ == 0;

    client->body = g_bytes_ref (self->poison);
    client->body_len = head_request ? 0 : self->promised;
    if (first && (g_strcmp0 (self->mode->name, "cut-poison") == 0 ||
                  g_strcmp0 (self->mode->name, "cut-late-poison") == 0)) {
      g_bytes_unref (client->body);
      client->body = kith_test_make_content (self->promised, 0xbad);
    }
    if (first) {
      client->body_len = head_request ? 0 : self->promised / 3;
      client->hold = g_str_has_prefix (self->mode->name, "cut-late");
    }
    if (!first && g_strcmp0 (self->mode->name, "cut-then-lie") == 0 && from > 0 && from < self->promised) {
      /* the length of the rest, but bytes from the start */
      client->body_len = head_request ? 0 : self->promised - from;
      g_snprintf (head, sizeof head,
                  "HTTP/1.1 206 Partial Content\r\nContent-Length: %" G_GUINT64_FORMAT "\r\nContent-Range: bytes 0-%"
                  G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "\r\nConnection: close\r\n\r\n",
                  self->promised - from, self->promised - from - 1, self->promised);
    } else {
      g_snprintf (head, sizeof head,
                  "HTTP/1.1 200 OK\r\nContent-Length: %" G_GUINT64_FORMAT "\r\nConnection: close\r\n\r\n",
                  self->promised + (g_strcmp0 (self->mode->name, "cut-size") == 0 ? 1000 : 0));
    }
  } else if (g_strcmp0 (self->mode->name, "stream") == 0) {
    /* no Content-Length: the body ends when we close, if ever */
    client->body_len = head_request ? 0 : ATTACKER_STREAM_MAX;
    g_snprintf (head, sizeof head, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
  } else if ((client->body = client_find_body (client)) != NULL) {
    client->body_len = head_request ? 0 : g_bytes_get_size (client->body);
    g_snprintf (head, sizeof head,
                "HTTP/1.1 200 OK\r\nContent-Length: %" G_GSIZE_FORMAT "\r\nConnection: close\r\n\r\n",
                g_bytes_get_size (client->body));
  } else {
    g_snprintf (head, sizeof head,
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  }
  g_output_stream_write_all_async (out, head, strlen (head), G_PRIORITY_DEFAULT, NULL, client_wrote_head,
                                   client);
}

static void
client_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Client *client = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  if (n <= 0) {
    client_free (client);
    return;
  }
  client->request_len += n;
  if (g_strstr_len ((const gchar *) client->request, client->request_len, "\r\n\r\n") != NULL) {
    client_respond (client);
    return;
  }
  if (client->request_len >= sizeof client->request - 1) {
    client_free (client);
    return;
  }
  g_input_stream_read_async (G_INPUT_STREAM (source), client->request + client->request_len,
                             sizeof client->request - 1 - client->request_len, G_PRIORITY_DEFAULT, NULL,
                             client_read, client);
}

static gboolean
attacker_incoming (GSocketService *service, GSocketConnection *connection, GObject *source, Attacker *self)
{
  Client *client = g_new0 (Client, 1);

  client->attacker = self;
  client->connection = g_object_ref (connection);
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (connection)), client->request,
                             sizeof client->request - 1, G_PRIORITY_DEFAULT, NULL, client_read, client);
  return TRUE;
}

static gboolean
attacker_listen (Attacker *self, GError **error)
{
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr (GSocketAddress) bound = NULL;

  self->service = g_socket_service_new ();
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), any, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &bound, error))
    return FALSE;
  g_signal_connect (self->service, "incoming", G_CALLBACK (attacker_incoming), self);
  self->alias_base = g_strdup_printf ("http://127.0.0.1:%u/alias/",
                                      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  return TRUE;
}

/* ---- the process ---- */

static const AttackerMode *
attacker_find_mode (const gchar *name, guint n_args)
{
  for (guint i = 0; i < G_N_ELEMENTS (attacker_modes); i++) {
    const AttackerMode *mode = &attacker_modes[i];
    if (g_strcmp0 (mode->name, name) == 0 && n_args >= mode->min_args && n_args <= mode->max_args)
      return mode;
  }
  return NULL;
}

static void
attacker_clear (Attacker *self)
{
  if (self->held != NULL)
    client_free (g_steal_pointer (&self->held));
  if (self->transport != NULL) {
    kith_transport_stop (self->transport);
    g_object_unref (self->transport);
  }
  if (self->service != NULL) {
    g_socket_service_stop (self->service);
    g_object_unref (self->service);
  }
  g_clear_pointer (&self->files, g_hash_table_unref);
  g_clear_pointer (&self->hrefs, g_hash_table_unref);
  g_clear_pointer (&self->poison, g_bytes_unref);
  g_free (self->claimed_sha256);
  g_free (self->alias_base);
}

int
main (int argc, char **argv)
{
  static const gchar *const broadcast[] = { "127.255.255.255", NULL };
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GError) error = NULL;
  Attacker self = { .loop = loop };
  int status = 0;

  setvbuf (stdout, NULL, _IOLBF, 0);
  if (argc < 3 || (self.mode = attacker_find_mode (argv[2], (guint) argc - 3)) == NULL) {
    g_printerr ("usage: kith-lan-attacker PORT MODE [ARGS] (see tests/kith-lan-attacker.c)\n");
    return 2;
  }
  self.args = argv + 3;
  self.n_args = (guint) argc - 3;
  self.transport = kith_transport_new ((guint16) atoi (argv[1]), "127.255.255.255", "127.0.0.1", broadcast,
                                      NULL);
  if (!attacker_listen (&self, &error) || !kith_transport_start (self.transport, &error)) {
    g_printerr ("kith-lan-attacker: %s\n", error->message);
    status = 1;
  } else {
    g_signal_connect (self.transport, "datagram", G_CALLBACK (attacker_datagram), &self);
    if (self.mode->start != NULL)
      self.mode->start (&self);
    g_autofree gchar *ready = g_strdup_printf ("ready %s %s", self.alias_base,
                                               self.claimed_sha256 != NULL ? self.claimed_sha256 : "-");
    kith_test_child_run (loop, ready);
  }
  attacker_clear (&self);
  return status;
}
