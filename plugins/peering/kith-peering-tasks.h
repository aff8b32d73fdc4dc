/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peering-tasks.h — the task broker over peering: "I need someone to do TASK"
 * requests of ours and their offers, and the plugins that answer others' requests */
#pragma once

#include "kith-agent.h"
#include "kith-packet.h"
#include "kith-peering-sender.h"

G_BEGIN_DECLS

typedef struct _KithPeeringTasks KithPeeringTasks;

/* Tasks sent through @sender (borrowed: it outlives the tasks). */
KithPeeringTasks *kith_peering_tasks_new (KithPeeringSender *sender);
void kith_peering_tasks_free (KithPeeringTasks *self);

/* Broadcasts a request for @task on @href; offers go to @func. Returns the request id. */
guint32 kith_peering_tasks_request (KithPeeringTasks *self, const gchar *task, const gchar *href,
                                    KithTaskOfferFunc func, gpointer user_data);
/* Tells the LAN that request @id found its peer. */
void kith_peering_tasks_found (KithPeeringTasks *self, guint32 id);
/* Ends request @id (no more offers are delivered). */
void kith_peering_tasks_end (KithPeeringTasks *self, guint32 id);
/* An offer (a "response" to one of our requests) goes to whoever asked; FALSE if
 * @packet is no such offer. */
gboolean kith_peering_tasks_deliver_offer (KithPeeringTasks *self, const KithPacket *packet,
                                           GSocketAddress *from);

/* The plugin that answers requests for @task. */
void kith_peering_tasks_add_responder (KithPeeringTasks *self, const gchar *task,
                                       KithTaskResponder func, gpointer user_data);
void kith_peering_tasks_remove_responder (KithPeeringTasks *self, const gchar *task);
/* The responder registered for @task, or NULL. */
KithTaskResponder kith_peering_tasks_get_responder (KithPeeringTasks *self, const gchar *task,
                                                    gpointer *user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithPeeringTasks, kith_peering_tasks_free)

G_END_DECLS
