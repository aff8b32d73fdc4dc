/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-lan-attacker.c — a hostile node on the loopback LAN, as its own process, speaking
 * docs/protocol.md over UDP (and HTTP where a mode serves bytes). The hostile-peering suite
 * runs it; it prints "ready" once listening and stops when stdin closes (or after 60 s).
 *
 *   kith-lan-attacker PORT request-flood HREF    every 50 ms a "request" for HREF from a
 *                                                new node id, each lower than the last
 *   kith-lan-attacker PORT downloading HREF      every 1 s "downloading" HREF, progress
 *                                                that never moves, never "complete"
 *   kith-lan-attacker PORT spoof-found           answers every "request" at once with a
 *                                                "found" in the requester's name
 *   kith-lan-attacker PORT amplify HREF N        N "request"s for HREF (new node ids),
 *                                                then prints "responses R" for the unicast
 *                                                answers it got within 2 s
 *   kith-lan-attacker PORT dead-then-good        answers "request"s at once with "I have"
 *                                                the URL's bytes (it fetches them itself):
 *                                                the first alias names a closed port,
 *                                                later ones its own HTTP server
 */
#include <gio/gio.h>
#include <libsoup/soup.h>
#include <stdlib.h>
#include <string.h>

#include "kith-packet.h"
#include "kith-transport.h"

typedef struct {
  GMainLoop *loop;
  KithTransport *transport;
  const gchar *mode;
  gchar **args;
  guint32 counter;
  guint responses;
  SoupSession *session;
  GHashTable *files; /* sha256 → GBytes */
  gchar *alias_base;
  guint answered;
} Hostile;

#define HOSTILE_NODE "bad0bad0bad0bad0bad0bad0bad0bad0"

static void
hostile_send (Hostile *hostile, KithPacket *packet, GSocketAddress *to)
{
  g_autoptr (GBytes) bytes = kith_packet_write (packet, NULL);

  g_assert_nonnull (bytes);
  if (to != NULL)
    kith_transport_send_to (hostile->transport, bytes, to, NULL);
  else
    kith_transport_broadcast (hostile->transport, bytes, NULL);
}

/* Ever-lower node ids: below any random id an agent draws (but the all-zero one). */
static gchar *
hostile_next_low_node (Hostile *hostile)
{
  return g_strdup_printf ("000000000000000000000000%08x", 0xfffffff0u - hostile->counter++);
}

static gboolean
hostile_request_tick (gpointer user_data)
{
  Hostile *hostile = user_data;
  g_autoptr (KithPacket) request = kith_packet_new (KITH_PACKET_TYPE_REQUEST);

  request->id = g_random_int ();
  request->node = hostile_next_low_node (hostile);
  request->href = g_strdup (hostile->args[0]);
  request->acceptprotocol = g_strdup ("http");
  hostile_send (hostile, request, NULL);
  return G_SOURCE_CONTINUE;
}

static gboolean
hostile_downloading_tick (gpointer user_data)
{
  Hostile *hostile = user_data;
  g_autoptr (KithPacket) packet = kith_packet_new (KITH_PACKET_TYPE_DOWNLOADING);

  packet->node = g_strdup (HOSTILE_NODE);
  packet->href = g_strdup (hostile->args[0]);
  packet->alias = g_strdup ("http://127.0.0.1:9/alias/");
  packet->done = 1000;
  packet->total = 10 * 1000 * 1000;
  hostile_send (hostile, packet, NULL);
  return G_SOURCE_CONTINUE;
}

static void
hostile_answer (Hostile *hostile, const KithPacket *request, GSocketAddress *from)
{
  g_autoptr (KithPacket) reply = kith_packet_new (KITH_PACKET_TYPE_RESPONSE);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", request->href);
  g_autoptr (GBytes) body = NULL;
  gchar *sha256;

  if (msg == NULL)
    return;
  body = soup_session_send_and_read (hostile->session, msg, NULL, NULL);
  if (body == NULL || soup_message_get_status (msg) != SOUP_STATUS_OK)
    return;
  sha256 = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, body);
  g_hash_table_replace (hostile->files, sha256, g_bytes_ref (body));
  reply->id = request->id;
  reply->node = g_strdup (HOSTILE_NODE);
  reply->href = g_strdup (request->href);
  /* the first answer names a port nobody listens on: a fault, not a lie */
  reply->alias = hostile->answered++ == 0
                     ? g_strdup_printf ("http://127.0.0.1:9/alias/%s", sha256)
                     : g_strdup_printf ("%s%s", hostile->alias_base, sha256);
  reply->size = g_bytes_get_size (body);
  reply->sha256 = g_strdup (sha256);
  hostile_send (hostile, reply, from);
}

static void
hostile_datagram (KithTransport *transport, GBytes *data, GSocketAddress *from, Hostile *hostile)
{
  gsize len = 0;
  const guint8 *raw = g_bytes_get_data (data, &len);
  g_autoptr (KithPacket) packet = kith_packet_parse (raw, len, NULL);

  if (packet == NULL || g_str_has_prefix (packet->node, "000000000000000000000000") ||
      g_strcmp0 (packet->node, HOSTILE_NODE) == 0)
    return; /* unparsable, or one of ours */
  if (g_strcmp0 (hostile->mode, "amplify") == 0 && packet->type == KITH_PACKET_TYPE_RESPONSE) {
    hostile->responses++;
  } else if (g_strcmp0 (hostile->mode, "spoof-found") == 0 &&
             packet->type == KITH_PACKET_TYPE_REQUEST) {
    g_autoptr (KithPacket) found = kith_packet_new (KITH_PACKET_TYPE_FOUND);
    found->id = packet->id;
    found->node = g_strdup (packet->node);
    hostile_send (hostile, found, NULL);
  } else if (g_strcmp0 (hostile->mode, "dead-then-good") == 0 &&
             packet->type == KITH_PACKET_TYPE_REQUEST && packet->href != NULL) {
    hostile_answer (hostile, packet, from);
  }
}

static gboolean
hostile_amplify_report (gpointer user_data)
{
  Hostile *hostile = user_data;

  g_print ("responses %u\n", hostile->responses);
  g_main_loop_quit (hostile->loop);
  return G_SOURCE_REMOVE;
}

static void
hostile_amplify (Hostile *hostile)
{
  guint n = atoi (hostile->args[1]);

  for (guint i = 0; i < n; i++)
    hostile_request_tick (hostile);
  g_timeout_add (2000, hostile_amplify_report, hostile);
}

static void
hostile_serve (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
               gpointer user_data)
{
  Hostile *hostile = user_data;
  GBytes *file = g_hash_table_lookup (hostile->files, path + strlen ("/alias/"));

  if (file == NULL) {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), file);
}

static SoupServer *
hostile_http (Hostile *hostile)
{
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr (GError) error = NULL;
  SoupServer *server = soup_server_new (NULL, NULL);
  GSList *uris;

  hostile->session = soup_session_new ();
  hostile->files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
  soup_server_add_handler (server, "/alias/", hostile_serve, hostile, NULL);
  g_assert_true (soup_server_listen (server, address, 0, &error));
  uris = soup_server_get_uris (server);
  hostile->alias_base = g_strdup_printf ("http://127.0.0.1:%d/alias/", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return server;
}

static gboolean
hostile_quit (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static gboolean
hostile_stdin (GIOChannel *channel, GIOCondition condition, gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  static const gchar *const broadcast[] = { "127.255.255.255", NULL };
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GIOChannel) input = g_io_channel_unix_new (0);
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupServer) server = NULL;
  Hostile hostile = { .loop = loop };

  if (argc < 3) {
    g_printerr ("usage: kith-lan-attacker PORT MODE [ARGS]\n");
    return 2;
  }
  hostile.mode = argv[2];
  hostile.args = argv + 3;
  hostile.transport = kith_transport_new (atoi (argv[1]), "127.255.255.255", "127.0.0.1", broadcast, NULL);
  g_assert_true (kith_transport_start (hostile.transport, &error));
  g_signal_connect (hostile.transport, "datagram", G_CALLBACK (hostile_datagram), &hostile);
  if (g_strcmp0 (hostile.mode, "request-flood") == 0 && argc == 4)
    g_timeout_add (50, hostile_request_tick, &hostile);
  else if (g_strcmp0 (hostile.mode, "downloading") == 0 && argc == 4) {
    hostile_downloading_tick (&hostile);
    g_timeout_add (1000, hostile_downloading_tick, &hostile);
  } else if (g_strcmp0 (hostile.mode, "amplify") == 0 && argc == 5)
    hostile_amplify (&hostile);
  else if (g_strcmp0 (hostile.mode, "dead-then-good") == 0 && argc == 3)
    server = hostile_http (&hostile);
  else if (g_strcmp0 (hostile.mode, "spoof-found") != 0) {
    g_printerr ("kith-lan-attacker: unknown mode or arguments\n");
    return 2;
  }
  g_io_add_watch (input, G_IO_IN | G_IO_HUP | G_IO_ERR, hostile_stdin, loop);
  g_timeout_add_seconds (60, hostile_quit, loop);
  g_print ("ready\n");
  g_main_loop_run (loop);
  kith_transport_stop (hostile.transport);
  g_object_unref (hostile.transport);
  g_clear_pointer (&hostile.files, g_hash_table_unref);
  g_clear_object (&hostile.session);
  g_free (hostile.alias_base);
  return 0;
}
