/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peering-sender.c — packets out: node id, transport, counters, request ids, alias URLs */
#include "kith-peering-sender.h"

#include "kith-alias-handler.h"

struct _KithPeeringSender {
  KithTransport *transport;
  gchar *node_id;
  KithMetrics *metrics; /* borrowed */
  KithHttp *http;       /* borrowed */
  gchar *http_host;     /* host part of our alias URLs; NULL when listening on any */
  guint32 next_id;
};

static gchar *
kith_peering_sender_find_http_host (KithHttp *http)
{
  g_autoptr (GUri) uri = g_uri_parse (kith_http_get_base_url (http), G_URI_FLAGS_NONE, NULL);
  g_autoptr (GInetAddress) address = NULL;

  if (uri == NULL)
    return NULL;
  address = g_inet_address_new_from_string (g_uri_get_host (uri));
  if (address != NULL && !g_inet_address_get_is_any (address))
    return g_strdup (g_uri_get_host (uri));
  return NULL;
}

KithPeeringSender *
kith_peering_sender_new (KithTransport *transport, const gchar *node_id, KithMetrics *metrics,
                         KithHttp *http)
{
  KithPeeringSender *self = g_new0 (KithPeeringSender, 1);

  self->transport = g_object_ref (transport);
  self->node_id = g_strdup (node_id);
  self->metrics = metrics;
  self->http = http;
  self->http_host = kith_peering_sender_find_http_host (http);
  self->next_id = g_random_int ();
  return self;
}

void
kith_peering_sender_free (KithPeeringSender *self)
{
  if (self == NULL)
    return;
  g_object_unref (self->transport);
  g_free (self->node_id);
  g_free (self->http_host);
  g_free (self);
}

void
kith_peering_sender_count (KithPeeringSender *self, const gchar *direction, KithPacketType type)
{
  g_autofree gchar *labels = g_strdup_printf ("type=\"%s\"", kith_packet_type_to_string (type));
  g_autofree gchar *name = g_strdup_printf ("kith_peering_packets_%s_total", direction);
  kith_metrics_add (self->metrics, name, labels, 1);
}

static void
kith_peering_sender_send (KithPeeringSender *self, KithPacket *packet, GSocketAddress *to)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;

  g_free (packet->node);
  packet->node = g_strdup (self->node_id);
  bytes = kith_packet_write (packet, &error);
  if (bytes == NULL) {
    g_warning ("cannot write a %s packet: %s", kith_packet_type_to_string (packet->type), error->message);
    return;
  }
  if (to != NULL ? !kith_transport_send_to (self->transport, bytes, to, &error)
                 : !kith_transport_broadcast (self->transport, bytes, &error)) {
    g_debug ("sending %s: %s", kith_packet_type_to_string (packet->type), error->message);
    return;
  }
  kith_peering_sender_count (self, "out", packet->type);
}

void
kith_peering_sender_broadcast (KithPeeringSender *self, KithPacket *packet)
{
  kith_peering_sender_send (self, packet, NULL);
}

void
kith_peering_sender_send_to (KithPeeringSender *self, KithPacket *packet, GSocketAddress *to)
{
  kith_peering_sender_send (self, packet, to);
}

guint32
kith_peering_sender_next_id (KithPeeringSender *self)
{
  return self->next_id++;
}

/* The local address the kernel would use to reach @peer (connecting a UDP socket
 * sends nothing). */
static gchar *
kith_peering_sender_local_host_for (GSocketAddress *peer)
{
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GSocketAddress) local = NULL;

  if (!G_IS_INET_SOCKET_ADDRESS (peer))
    return NULL;
  socket = g_socket_new (g_socket_address_get_family (peer), G_SOCKET_TYPE_DATAGRAM,
                         G_SOCKET_PROTOCOL_UDP, NULL);
  if (socket == NULL || !g_socket_connect (socket, peer, NULL, NULL))
    return NULL;
  local = g_socket_get_local_address (socket, NULL);
  if (local == NULL)
    return NULL;
  return g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local)));
}

gchar *
kith_peering_sender_alias_url (KithPeeringSender *self, const gchar *sha256, const gchar *href,
                               GSocketAddress *peer)
{
  g_autofree gchar *path = sha256 != NULL ? kith_alias_handler_build_path (sha256, href)
                                          : g_strdup (KITH_ALIAS_HANDLER_PREFIX);

  return kith_peering_sender_url_for_path (self, path, peer);
}

gchar *
kith_peering_sender_url_for_path (KithPeeringSender *self, const gchar *path, GSocketAddress *peer)
{
  g_autofree gchar *host = NULL;
  g_autoptr (GUri) uri = NULL;

  if (self->http_host != NULL)
    host = g_strdup (self->http_host);
  else if (peer != NULL)
    host = kith_peering_sender_local_host_for (peer);
  if (host == NULL)
    host = g_strdup ("0.0.0.0"); /* receivers use the packet's source address */
  uri = g_uri_build (G_URI_FLAGS_ENCODED_PATH, "http", NULL, host, kith_http_get_port (self->http),
                     path, NULL, NULL);
  return g_uri_to_string (uri);
}
