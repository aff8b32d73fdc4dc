/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peer-identity.c — the enrolled-identity interface */
#include "kith-peer-identity.h"

G_DEFINE_INTERFACE (KithPeerIdentity, kith_peer_identity, G_TYPE_OBJECT)

static void
kith_peer_identity_default_init (KithPeerIdentityInterface *iface)
{
}

gboolean
kith_peer_identity_prove (KithPeerIdentity *self, const gchar *role, guint32 id, const gchar *alias, gchar **cert,
                          gchar **sig)
{
  g_return_val_if_fail (KITH_IS_PEER_IDENTITY (self), FALSE);
  g_return_val_if_fail (cert != NULL && sig != NULL, FALSE);
  *cert = *sig = NULL;
  return KITH_PEER_IDENTITY_GET_IFACE (self)->prove (self, role, id, alias, cert, sig);
}
