/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peering-sender.h — this node's voice on the LAN: it signs packets with the node id,
 * sends and counts them, numbers requests and names our alias URLs */
#pragma once

#include "kith-agent.h"
#include "kith-packet.h"
#include "kith-transport.h"

G_BEGIN_DECLS

typedef struct _KithPeeringSender KithPeeringSender;

/* A sender through @transport for @node_id; @metrics and @http are borrowed (the agent's),
 * @transport is referenced. */
KithPeeringSender *kith_peering_sender_new (KithTransport *transport, const gchar *node_id,
                                            KithMetrics *metrics, KithHttp *http);
void kith_peering_sender_free (KithPeeringSender *self);

/* Sends @packet (its node is filled in) to the LAN, or unicast to @to. */
void kith_peering_sender_broadcast (KithPeeringSender *self, KithPacket *packet);
void kith_peering_sender_send_to (KithPeeringSender *self, KithPacket *packet, GSocketAddress *to);
/* Counts a packet of @type in kith_peering_packets_@direction_total. */
void kith_peering_sender_count (KithPeeringSender *self, const gchar *direction, KithPacketType type);
/* A fresh request id, unique on this node. */
guint32 kith_peering_sender_next_id (KithPeeringSender *self);
/* The alias URL of @sha256 as seen from @peer (the host peers reach us on), or with a
 * NULL @sha256 the base of our aliases (for "downloading"); caller frees. */
gchar *kith_peering_sender_alias_url (KithPeeringSender *self, const gchar *sha256,
                                      const gchar *href, GSocketAddress *peer);
/* The URL of @path (under /alias/, e.g. a partial copy's) on our HTTP server as seen from
 * @peer (nullable: for a broadcast); caller frees. */
gchar *kith_peering_sender_url_for_path (KithPeeringSender *self, const gchar *path,
                                         GSocketAddress *peer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithPeeringSender, kith_peering_sender_free)

G_END_DECLS
