/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-hostile-peer.c — an attacker on the LAN, as its own process: it speaks the peering
 * protocol (docs/protocol.md) on loopback and serves its own bytes over plain HTTP.
 *
 *   kith-hostile-peer PORT MODE [ARG]
 *
 * MODE
 *   have         answers every "I need" at once with its own alias, size and the sha256
 *                of its own bytes (a poisoned copy, SIZE=ARG bytes, default 65536)
 *   complete URL broadcasts a bare "complete" (and "downloading") for URL every 50 ms,
 *                naming its own poisoned copy; answers requests for it too
 *   alias URL    answers every "I need" with ARG as the alias (SSRF, file://, …)
 *   stream SIZE SHA256  answers "I have" for SIZE bytes with SHA256 (the real file's, as
 *                from the catalog), then streams up to 300 MB, close-delimited
 *
 * It prints "ready ALIAS-BASE" once listening, and "sent N" to stdout for every HTTP body it
 * finished (N = body bytes written). It stops when stdin closes, or after 120 s. */
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kith-packet.h"
#include "kith-transport.h"
#include "kith-test-origin.h"

#define HOSTILE_NODE "0000000000000000000000000000beef"
#define HOSTILE_STREAM_MAX (300ull * 1024 * 1024)
#define HOSTILE_CHUNK (64 * 1024)

typedef struct {
  KithTransport *transport;
  const gchar *mode;
  const gchar *arg;
  gchar *alias_base;
  GBytes *poison;
  gchar *poison_sha256;
  guint64 promised;
  GSocketService *service;
} Hostile;

typedef struct {
  Hostile *hostile;
  GSocketConnection *connection;
  guint8 request[4096];
  gsize request_len;
  guint8 *chunk;
  guint64 sent;
  guint64 body_len;
} Client;

static void
hostile_send (Hostile *self, KithPacket *packet, GSocketAddress *to)
{
  g_autoptr (GBytes) bytes = NULL;

  g_free (packet->node);
  packet->node = g_strdup (HOSTILE_NODE);
  bytes = kith_packet_write (packet, NULL);
  if (bytes == NULL)
    return;
  if (to != NULL)
    kith_transport_send_to (self->transport, bytes, to, NULL);
  else
    kith_transport_broadcast (self->transport, bytes, NULL);
}

static gchar *
hostile_alias (Hostile *self)
{
  if (g_strcmp0 (self->mode, "alias") == 0)
    return g_strdup (self->arg);
  return g_strdup_printf ("%s%s", self->alias_base, self->poison_sha256);
}

static void
hostile_datagram (KithTransport *transport, GBytes *data, GSocketAddress *from, Hostile *self)
{
  gsize len = 0;
  const guint8 *raw = g_bytes_get_data (data, &len);
  g_autoptr (KithPacket) request = kith_packet_parse (raw, len, NULL);
  g_autoptr (KithPacket) reply = NULL;

  if (request == NULL || request->type != KITH_PACKET_TYPE_REQUEST || request->method != KITH_PACKET_METHOD_GET ||
      g_strcmp0 (request->node, HOSTILE_NODE) == 0)
    return;
  reply = kith_packet_new (KITH_PACKET_TYPE_RESPONSE);
  reply->id = request->id;
  reply->alias = hostile_alias (self);
  reply->size = self->promised;
  reply->sha256 = g_strdup (self->poison_sha256);
  hostile_send (self, reply, from);
}

static gboolean
hostile_announce (gpointer user_data)
{
  Hostile *self = user_data;
  g_autoptr (KithPacket) downloading = kith_packet_new (KITH_PACKET_TYPE_DOWNLOADING);
  g_autoptr (KithPacket) complete = kith_packet_new (KITH_PACKET_TYPE_COMPLETE);

  downloading->href = g_strdup (self->arg);
  downloading->alias = g_strdup (self->alias_base);
  downloading->done = self->promised / 2;
  downloading->total = self->promised;
  hostile_send (self, downloading, NULL);
  complete->href = g_strdup (self->arg);
  complete->alias = hostile_alias (self);
  complete->size = self->promised;
  complete->sha256 = g_strdup (self->poison_sha256);
  hostile_send (self, complete, NULL);
  return G_SOURCE_CONTINUE;
}

static void
client_free (Client *client)
{
  g_print ("sent %" G_GUINT64_FORMAT "\n", client->sent);
  g_io_stream_close (G_IO_STREAM (client->connection), NULL, NULL);
  g_object_unref (client->connection);
  g_free (client->chunk);
  g_free (client);
}

static void client_write_body (Client *client);

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
  client_write_body (client);
}

static void
client_write_body (Client *client)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (client->connection));
  gsize n = (gsize) MIN ((guint64) HOSTILE_CHUNK, client->body_len - client->sent);

  if (n == 0) {
    client_free (client);
    return;
  }
  if (client->hostile->poison != NULL && g_strcmp0 (client->hostile->mode, "stream") != 0)
    memcpy (client->chunk, (const guint8 *) g_bytes_get_data (client->hostile->poison, NULL) + client->sent, n);
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

static void
client_respond (Client *client)
{
  Hostile *self = client->hostile;
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (client->connection));
  static gchar head[256];
  gboolean head_request = strncmp ((const gchar *) client->request, "HEAD ", 5) == 0;

  client->chunk = g_malloc0 (HOSTILE_CHUNK);
  if (g_strcmp0 (self->mode, "stream") == 0) {
    /* no Content-Length: the body ends when we close, if ever */
    client->body_len = head_request ? 0 : HOSTILE_STREAM_MAX;
    g_snprintf (head, sizeof head, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
  } else {
    client->body_len = head_request ? 0 : g_bytes_get_size (self->poison);
    g_snprintf (head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %" G_GSIZE_FORMAT "\r\nConnection: close\r\n\r\n",
                g_bytes_get_size (self->poison));
  }
  g_output_stream_write_all_async (out, head, strlen (head), G_PRIORITY_DEFAULT, NULL, client_wrote_head, client);
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
                             sizeof client->request - 1 - client->request_len, G_PRIORITY_DEFAULT, NULL, client_read,
                             client);
}

static gboolean
hostile_incoming (GSocketService *service, GSocketConnection *connection, GObject *source, Hostile *self)
{
  Client *client = g_new0 (Client, 1);

  client->hostile = self;
  client->connection = g_object_ref (connection);
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (connection)), client->request,
                             sizeof client->request - 1, G_PRIORITY_DEFAULT, NULL, client_read, client);
  return TRUE;
}

static gboolean
hostile_quit (GIOChannel *channel, GIOCondition condition, gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static gboolean
hostile_timeout (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  static const gchar *const broadcast[] = { "127.255.255.255", NULL };
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GIOChannel) input = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr (GSocketAddress) bound = NULL;
  Hostile self = { 0 };
  guint64 size = 65536;

  setvbuf (stdout, NULL, _IOLBF, 0);
  if (argc < 3) {
    g_printerr ("usage: %s PORT MODE [ARG]\n", argv[0]);
    return 2;
  }
  self.mode = argv[2];
  self.arg = argc > 3 ? argv[3] : NULL;
  if (g_strcmp0 (self.mode, "have") == 0 && self.arg != NULL)
    size = g_ascii_strtoull (self.arg, NULL, 10);
  if (g_strcmp0 (self.mode, "stream") == 0)
    size = self.arg != NULL ? g_ascii_strtoull (self.arg, NULL, 10) : 50000;
  self.poison = kith_test_make_content (size, 0xbad);
  self.poison_sha256 = g_strcmp0 (self.mode, "stream") == 0 && argc > 4 ? g_strdup (argv[4])
                                                                        : kith_test_sha256 (self.poison);
  self.promised = size;
  self.service = g_socket_service_new ();
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self.service), any, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error)) {
    g_printerr ("cannot listen: %s\n", error->message);
    return 1;
  }
  g_signal_connect (self.service, "incoming", G_CALLBACK (hostile_incoming), &self);
  self.alias_base = g_strdup_printf ("http://127.0.0.1:%u/alias/",
                                     g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  self.transport = kith_transport_new ((guint16) atoi (argv[1]), "127.255.255.255", "127.0.0.1", broadcast, NULL);
  if (!kith_transport_start (self.transport, &error)) {
    g_printerr ("cannot open the peering sockets: %s\n", error->message);
    return 1;
  }
  g_signal_connect (self.transport, "datagram", G_CALLBACK (hostile_datagram), &self);
  if (g_strcmp0 (self.mode, "complete") == 0)
    g_timeout_add (50, hostile_announce, &self);
  input = g_io_channel_unix_new (0);
  g_io_add_watch (input, G_IO_IN | G_IO_HUP | G_IO_ERR, hostile_quit, loop);
  g_timeout_add_seconds (120, hostile_timeout, loop);
  g_print ("ready %s %s\n", self.alias_base, self.poison_sha256);
  g_main_loop_run (loop);
  kith_transport_stop (self.transport);
  g_object_unref (self.transport);
  g_socket_service_stop (self.service);
  g_object_unref (self.service);
  g_bytes_unref (self.poison);
  g_free (self.poison_sha256);
  g_free (self.alias_base);
  return 0;
}
