/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peering-trust.h — whose bytes a node takes, and for which copies it vouches
 * ([peering] trust=, docs/protocol.md "Trust"):
 *
 *   verified (default)  a peer's copy is taken only when it can be checked against a hash
 *                       this node trusts (the caller's, the signed catalog's, the origin's
 *                       digest), or when the peer proves it is enrolled with the vendor
 *                       backend (certificate + proof of possession, role "serve") and so
 *                       vouches for a copy it fetched from the origin or checked against a
 *                       trusted hash; otherwise the fetch goes to the origin.
 *   lan                 any peer's announced sha256 is believed: for closed LANs without a
 *                       backend. UNSAFE on a LAN with untrusted machines.
 */
#pragma once

#include "kith-agent.h"
#include "kith-packet.h"

G_BEGIN_DECLS

typedef enum {
  KITH_PEERING_TRUST_VERIFIED,
  KITH_PEERING_TRUST_LAN,
} KithPeeringTrustMode;

typedef struct _KithPeeringTrust KithPeeringTrust;

/* Reads [peering] trust (a bad value names file, group and key) and the trust anchor of
 * @agent (borrowed, outlives it); NULL with @error. */
KithPeeringTrust *kith_peering_trust_new (KithAgent *agent, GError **error);
void kith_peering_trust_free (KithPeeringTrust *self);
KithPeeringTrustMode kith_peering_trust_get_mode (KithPeeringTrust *self);
/* TRUE when @response (to our request, from @from) carries the proof of an enrolled peer
 * (kith_peer_proof_verify, role "serve") over (id, alias), and its alias names its
 * sha256; else FALSE with a reason (caller frees). */
gboolean kith_peering_trust_check_vouch (KithPeeringTrust *self, const KithPacket *response, GSocketAddress *from,
                                         gchar **reason);
/* Adds this node's certificate and proof of possession to @reply (its id and alias set)
 * when it is enrolled with role "serve"; FALSE (reply unchanged) when not. */
gboolean kith_peering_trust_vouch (KithPeeringTrust *self, KithPacket *reply);

G_END_DECLS
