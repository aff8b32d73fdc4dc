/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peering-trust.c — [peering] trust=, and the enrolled-peer proof on file responses */
#include "kith-peering-trust.h"

#include <string.h>

#include "kith-alias-handler.h"
#include "kith-peer-identity.h"
#include "kith-peer-proof.h"

struct _KithPeeringTrust {
  KithAgent *agent;
  KithPeeringTrustMode mode;
  gchar *anchor_pem; /* NULL: no trust anchor, no peer can prove anything */
};

KithPeeringTrust *
kith_peering_trust_new (KithAgent *agent, GError **error)
{
  KithConfig *config = kith_agent_get_config (agent);
  g_autofree gchar *mode = kith_config_get_string (config, "peering", "trust", "verified", error);
  const gchar *anchor = kith_agent_get_trust_anchor (agent);
  KithPeeringTrust *self;

  if (mode == NULL)
    return NULL;
  if (g_strcmp0 (mode, "verified") != 0 && g_strcmp0 (mode, "lan") != 0) {
    kith_config_set_error (config, error, "peering", "trust", "'%s' is neither 'verified' nor 'lan'", mode);
    return NULL;
  }
  self = g_new0 (KithPeeringTrust, 1);
  self->agent = agent;
  self->mode = g_strcmp0 (mode, "lan") == 0 ? KITH_PEERING_TRUST_LAN : KITH_PEERING_TRUST_VERIFIED;
  if (anchor != NULL && !g_file_get_contents (anchor, &self->anchor_pem, NULL, NULL))
    g_message ("cannot read the trust anchor %s: no peer can vouch for a copy", anchor);
  if (self->mode == KITH_PEERING_TRUST_LAN)
    g_message ("[peering] trust=lan: copies from any peer are believed (unsafe outside a closed LAN)");
  return self;
}

void
kith_peering_trust_free (KithPeeringTrust *self)
{
  if (self == NULL)
    return;
  g_free (self->anchor_pem);
  g_free (self);
}

KithPeeringTrustMode
kith_peering_trust_get_mode (KithPeeringTrust *self)
{
  return self->mode;
}

/* The alias names the copy it claims: /alias/SHA256[/name]. */
static gboolean
kith_peering_trust_alias_names (const gchar *alias, const gchar *sha256)
{
  g_autofree gchar *needle = g_strconcat (KITH_ALIAS_HANDLER_PREFIX, sha256, NULL);
  const gchar *at = sha256 != NULL ? strstr (alias, needle) : NULL;
  return at != NULL && (at[strlen (needle)] == '\0' || at[strlen (needle)] == '/');
}

gboolean
kith_peering_trust_check_vouch (KithPeeringTrust *self, const KithPacket *response, GSocketAddress *from,
                                gchar **reason)
{
  KithPeerClaim claim = {
    .id = response->id, .node = response->node, .cert = response->cert, .alias = response->alias,
    .sig = response->sig, .from = from,
  };

  if (response->cert == NULL) {
    *reason = g_strdup ("no certificate");
    return FALSE;
  }
  if (response->sha256 == NULL || !kith_peering_trust_alias_names (response->alias, response->sha256)) {
    *reason = g_strdup ("the alias does not name the announced sha256");
    return FALSE;
  }
  return kith_peer_proof_verify (self->anchor_pem, KITH_PEER_ROLE_SERVE, &claim, g_get_real_time () / G_USEC_PER_SEC,
                                 reason);
}

gboolean
kith_peering_trust_vouch (KithPeeringTrust *self, KithPacket *reply)
{
  /* the plugin that enrolls with the backend offers the identity (upload today) */
  GObject *service = kith_agent_get_service (self->agent, "upload");
  gchar *cert = NULL, *sig = NULL;

  if (service == NULL || !KITH_IS_PEER_IDENTITY (service) ||
      !kith_peer_identity_prove (KITH_PEER_IDENTITY (service), KITH_PEER_ROLE_SERVE, reply->id, reply->alias, &cert,
                                 &sig))
    return FALSE;
  g_free (reply->cert);
  g_free (reply->sig);
  reply->cert = cert;
  reply->sig = sig;
  return TRUE;
}
