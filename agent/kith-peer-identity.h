/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peer-identity.h — this node's enrolled identity, offered by the plugin that enrolls
 * with the vendor backend (upload) to the plugins that must prove it to peers (peering
 * vouches for its copies with it). Verifying is kith_peer_proof_verify(). */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define KITH_TYPE_PEER_IDENTITY (kith_peer_identity_get_type ())
G_DECLARE_INTERFACE (KithPeerIdentity, kith_peer_identity, KITH, PEER_IDENTITY, GObject)

struct _KithPeerIdentityInterface {
  GTypeInterface parent_iface;
  gboolean (*prove) (KithPeerIdentity *self, const gchar *role, guint32 id, const gchar *alias, gchar **cert,
                     gchar **sig);
};

/* When this node holds a valid certificate permitting @role: its certificate (base64 DER)
 * in *@cert and the proof of possession over kith_peer_proof_data (@id, @alias) in *@sig
 * (both caller frees), TRUE. FALSE (nothing set) when not enrolled or not permitted. */
gboolean kith_peer_identity_prove (KithPeerIdentity *self, const gchar *role, guint32 id, const gchar *alias,
                                   gchar **cert, gchar **sig);

G_END_DECLS
