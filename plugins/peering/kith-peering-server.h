/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peering-server.h — the responding side (FIG. 3, 5; docs/architecture.md): answer "I need" with "I have"
 * after a random delay unless someone says "I found" first */
#pragma once

#include "kith-peering-context.h"
#include "kith-peering-tasks.h"

G_BEGIN_DECLS

typedef struct _KithPeeringServer KithPeeringServer;

/* TRUE if this node is fetching @href from the origin right now (or streaming it from a
 * peer while serving it on); fills its progress and, when it serves its partial copy,
 * @alias_path (caller frees; else NULL). */
typedef gboolean (*KithPeeringOriginProgressFunc) (const gchar *href, guint64 *done,
                                                   guint64 *total, gchar **alias_path,
                                                   gpointer user_data);

/* A server working with @context and answering task requests through @tasks (both
 * borrowed: the service owns them and the server); @origin_progress tells it about
 * our own origin downloads. */
KithPeeringServer *kith_peering_server_new (const KithPeeringContext *context,
                                            KithPeeringTasks *tasks,
                                            KithPeeringOriginProgressFunc origin_progress,
                                            gpointer user_data);
/* Cancels every pending reply. */
void kith_peering_server_free (KithPeeringServer *self);
/* A packet from another node: request, found or end-request concern the server. */
void kith_peering_server_handle_packet (KithPeeringServer *self, const KithPacket *packet,
                                        GSocketAddress *from);
/* Replies scheduled and not yet sent or cancelled. */
guint kith_peering_server_get_pending (KithPeeringServer *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithPeeringServer, kith_peering_server_free)

G_END_DECLS
