/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peer-directory.c — the nodes heard on the LAN, for people */
#include "kith-peer-directory.h"

typedef struct {
  gchar *node;
  gchar *address;
  gint64 last_seen;    /* unix seconds */
  KithPacketType last_type;
  gchar *href;         /* the last URL it asked for, holds or downloads */
  const gchar *activity;
  guint64 done;
  guint64 total;
} KithPeerEntry;

struct _KithPeerDirectory {
  gchar *self_node;
  guint max_nodes;
  GQueue order;        /* KithPeerEntry*, most recently heard first */
  GHashTable *by_node; /* node → GList* link in @order */
};

static void
kith_peer_entry_free (KithPeerEntry *entry)
{
  g_free (entry->node);
  g_free (entry->address);
  g_free (entry->href);
  g_free (entry);
}

KithPeerDirectory *
kith_peer_directory_new (const gchar *self_node, guint max_nodes)
{
  KithPeerDirectory *self = g_new0 (KithPeerDirectory, 1);

  self->self_node = g_strdup (self_node);
  self->max_nodes = MAX (max_nodes, 1);
  g_queue_init (&self->order);
  self->by_node = g_hash_table_new (g_str_hash, g_str_equal);
  return self;
}

void
kith_peer_directory_free (KithPeerDirectory *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->by_node);
  g_queue_clear_full (&self->order, (GDestroyNotify) kith_peer_entry_free);
  g_free (self->self_node);
  g_free (self);
}

/* What a packet says about its sender's relation to its href, or NULL. */
static const gchar *
kith_peer_directory_activity (KithPacketType type)
{
  switch (type) {
  case KITH_PACKET_TYPE_REQUEST: return "asks";
  case KITH_PACKET_TYPE_RESPONSE: return "holds";
  case KITH_PACKET_TYPE_DOWNLOADING: return "downloading";
  case KITH_PACKET_TYPE_COMPLETE: return "complete";
  default: return NULL;
  }
}

static KithPeerEntry *
kith_peer_directory_lookup (KithPeerDirectory *self, const gchar *node)
{
  GList *link = g_hash_table_lookup (self->by_node, node);
  KithPeerEntry *entry;

  if (link != NULL) {
    g_queue_unlink (&self->order, link);
    g_queue_push_head_link (&self->order, link);
    return link->data;
  }
  if (self->order.length >= self->max_nodes) {
    KithPeerEntry *oldest = g_queue_pop_tail (&self->order);
    g_hash_table_remove (self->by_node, oldest->node);
    kith_peer_entry_free (oldest);
  }
  entry = g_new0 (KithPeerEntry, 1);
  entry->node = g_strdup (node);
  g_queue_push_head (&self->order, entry);
  g_hash_table_insert (self->by_node, entry->node, self->order.head);
  return entry;
}

void
kith_peer_directory_note (KithPeerDirectory *self, const KithPacket *packet, GSocketAddress *from)
{
  KithPeerEntry *entry;
  const gchar *activity;

  if (packet->node == NULL || g_strcmp0 (packet->node, self->self_node) == 0)
    return;
  entry = kith_peer_directory_lookup (self, packet->node);
  if (G_IS_INET_SOCKET_ADDRESS (from)) {
    g_free (entry->address);
    entry->address = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (from)));
  }
  entry->last_seen = g_get_real_time () / G_USEC_PER_SEC;
  entry->last_type = packet->type;
  activity = kith_peer_directory_activity (packet->type);
  if (activity == NULL || packet->href == NULL)
    return;
  g_free (entry->href);
  entry->href = g_strdup (packet->href);
  entry->activity = activity;
  entry->done = packet->type == KITH_PACKET_TYPE_COMPLETE ? packet->size : packet->done;
  entry->total = packet->type == KITH_PACKET_TYPE_COMPLETE ? packet->size : packet->total;
}

GVariant *
kith_peer_directory_to_variant (KithPeerDirectory *self)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (GList *l = self->order.head; l != NULL; l = l->next) {
    KithPeerEntry *entry = l->data;
    GVariantDict dict;

    g_variant_dict_init (&dict, NULL);
    g_variant_dict_insert (&dict, "node", "s", entry->node);
    g_variant_dict_insert (&dict, "address", "s", entry->address != NULL ? entry->address : "");
    g_variant_dict_insert (&dict, "last-seen", "x", entry->last_seen);
    g_variant_dict_insert (&dict, "last-packet", "s", kith_packet_type_to_string (entry->last_type));
    if (entry->href != NULL) {
      g_variant_dict_insert (&dict, "href", "s", entry->href);
      g_variant_dict_insert (&dict, "activity", "s", entry->activity);
      g_variant_dict_insert (&dict, "done", "t", entry->done);
      g_variant_dict_insert (&dict, "total", "t", entry->total);
    }
    g_variant_builder_add_value (&builder, g_variant_dict_end (&dict));
  }
  return g_variant_builder_end (&builder);
}
