/* kith-peering-server.h — the responding side (FIG. 3, 5): answer "I need" with "I have"
 * after a random delay unless someone says "I found" first */
#pragma once

#include "kith-peering-private.h"

G_BEGIN_DECLS

typedef struct _KithPeeringServer KithPeeringServer;

/* A server answering for @peering (borrowed: the service owns the server). */
KithPeeringServer *kith_peering_server_new (KithPeering *peering);
/* Cancels every pending reply. */
void kith_peering_server_free (KithPeeringServer *self);
/* A packet from another node: request, found or end-request concern the server. */
void kith_peering_server_handle_packet (KithPeeringServer *self, const KithPacket *packet,
                                        GSocketAddress *from);
/* Replies scheduled and not yet sent or cancelled. */
guint kith_peering_server_get_pending (KithPeeringServer *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithPeeringServer, kith_peering_server_free)

G_END_DECLS
