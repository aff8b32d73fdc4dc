/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-task-broker.c — the task broker interface */
#include "kith-task-broker.h"

#include "kith-peer-proof.h"

G_DEFINE_INTERFACE (KithTaskBroker, kith_task_broker, G_TYPE_OBJECT)

static void
kith_task_broker_default_init (KithTaskBrokerInterface *iface)
{
}

guint32
kith_task_broker_request (KithTaskBroker *self, const gchar *task, const gchar *href,
                          KithTaskOfferFunc func, gpointer user_data)
{
  g_return_val_if_fail (KITH_IS_TASK_BROKER (self), 0);
  return KITH_TASK_BROKER_GET_IFACE (self)->request (self, task, href, func, user_data);
}

void
kith_task_broker_found (KithTaskBroker *self, guint32 id)
{
  g_return_if_fail (KITH_IS_TASK_BROKER (self));
  KITH_TASK_BROKER_GET_IFACE (self)->found (self, id);
}

void
kith_task_broker_end (KithTaskBroker *self, guint32 id)
{
  g_return_if_fail (KITH_IS_TASK_BROKER (self));
  KITH_TASK_BROKER_GET_IFACE (self)->end (self, id);
}

void
kith_task_broker_add_responder (KithTaskBroker *self, const gchar *task, KithTaskResponder func,
                                gpointer user_data)
{
  g_return_if_fail (KITH_IS_TASK_BROKER (self));
  KITH_TASK_BROKER_GET_IFACE (self)->add_responder (self, task, func, user_data);
}

void
kith_task_broker_remove_responder (KithTaskBroker *self, const gchar *task)
{
  g_return_if_fail (KITH_IS_TASK_BROKER (self));
  KITH_TASK_BROKER_GET_IFACE (self)->remove_responder (self, task);
}

GBytes *
kith_task_broker_proof_data (guint32 id, const gchar *alias)
{
  return kith_peer_proof_data (id, alias);
}

gboolean
kith_task_offer_verify (const KithTaskOffer *offer, guint32 id, const gchar *anchor_pem, const gchar *role,
                        gint64 now, gchar **reason)
{
  KithPeerClaim claim = {
    .id = id, .node = offer->node, .cert = offer->cert, .alias = offer->alias, .sig = offer->sig, .from = offer->from,
  };

  return kith_peer_proof_verify (anchor_pem, role, &claim, now, reason);
}
