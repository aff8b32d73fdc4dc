/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peering-tasks.c — task requests (method post, want=TASK) and their responders */
#include "kith-peering-tasks.h"

struct _KithPeeringTasks {
  KithPeeringSender *sender; /* borrowed */
  GHashTable *responders;    /* task → KithPeeringResponder* */
  GHashTable *requests;      /* request id → KithPeeringTaskRequest* */
};

typedef struct {
  KithTaskResponder func;
  gpointer user_data;
} KithPeeringResponder;

typedef struct {
  KithTaskOfferFunc func;
  gpointer user_data;
} KithPeeringTaskRequest;

KithPeeringTasks *
kith_peering_tasks_new (KithPeeringSender *sender)
{
  KithPeeringTasks *self = g_new0 (KithPeeringTasks, 1);

  self->sender = sender;
  self->responders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->requests = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  return self;
}

void
kith_peering_tasks_free (KithPeeringTasks *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->responders);
  g_hash_table_unref (self->requests);
  g_free (self);
}

guint32
kith_peering_tasks_request (KithPeeringTasks *self, const gchar *task, const gchar *href,
                            KithTaskOfferFunc func, gpointer user_data)
{
  g_autoptr (KithPacket) packet = kith_packet_new (KITH_PACKET_TYPE_REQUEST);
  KithPeeringTaskRequest *request = g_new0 (KithPeeringTaskRequest, 1);

  request->func = func;
  request->user_data = user_data;
  packet->id = kith_peering_sender_next_id (self->sender);
  packet->method = KITH_PACKET_METHOD_POST;
  packet->href = g_strdup (href);
  packet->want = g_strdup (task);
  packet->acceptprotocol = g_strdup ("http");
  g_hash_table_insert (self->requests, GUINT_TO_POINTER (packet->id), request);
  kith_peering_sender_broadcast (self->sender, packet);
  return packet->id;
}

void
kith_peering_tasks_found (KithPeeringTasks *self, guint32 id)
{
  g_autoptr (KithPacket) packet = kith_packet_new (KITH_PACKET_TYPE_FOUND);
  packet->id = id;
  kith_peering_sender_broadcast (self->sender, packet);
}

void
kith_peering_tasks_end (KithPeeringTasks *self, guint32 id)
{
  g_autoptr (KithPacket) packet = NULL;

  if (!g_hash_table_remove (self->requests, GUINT_TO_POINTER (id)))
    return;
  packet = kith_packet_new (KITH_PACKET_TYPE_END_REQUEST);
  packet->id = id;
  kith_peering_sender_broadcast (self->sender, packet);
}

gboolean
kith_peering_tasks_deliver_offer (KithPeeringTasks *self, const KithPacket *packet,
                                  GSocketAddress *from)
{
  KithPeeringTaskRequest *request;
  KithTaskOffer offer = { 0 };

  if (packet->type != KITH_PACKET_TYPE_RESPONSE)
    return FALSE;
  request = g_hash_table_lookup (self->requests, GUINT_TO_POINTER (packet->id));
  if (request == NULL)
    return FALSE;
  offer.node = packet->node;
  offer.alias = packet->alias;
  offer.cert = packet->cert;
  offer.sig = packet->sig;
  offer.interval = packet->interval;
  offer.from = from;
  request->func (packet->id, &offer, request->user_data);
  return TRUE;
}

void
kith_peering_tasks_add_responder (KithPeeringTasks *self, const gchar *task,
                                  KithTaskResponder func, gpointer user_data)
{
  KithPeeringResponder *responder = g_new0 (KithPeeringResponder, 1);

  responder->func = func;
  responder->user_data = user_data;
  g_hash_table_replace (self->responders, g_strdup (task), responder);
}

void
kith_peering_tasks_remove_responder (KithPeeringTasks *self, const gchar *task)
{
  g_hash_table_remove (self->responders, task);
}

KithTaskResponder
kith_peering_tasks_get_responder (KithPeeringTasks *self, const gchar *task, gpointer *user_data)
{
  KithPeeringResponder *responder = g_hash_table_lookup (self->responders, task);

  if (responder == NULL)
    return NULL;
  *user_data = responder->user_data;
  return responder->func;
}
