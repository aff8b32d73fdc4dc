/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peer-proof.h — is a peer enrolled with the vendor backend? The one check of a
 * node certificate and its proof of possession (docs/security.md), used by every plugin
 * that must trust a peer: task offers (upload, relay) and copies of files served without
 * a hash the requester already trusts (peering). Pure functions of their inputs. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The roles a node certificate can permit (its tasks extension, comma-separated). */
#define KITH_PEER_ROLE_UPLOAD "upload"
#define KITH_PEER_ROLE_RELAY "relay"
#define KITH_PEER_ROLE_SERVE "serve"

/* What a peer presents about itself in one "response". Strings borrowed. */
typedef struct {
  guint32 id;           /* the request it answers */
  const gchar *node;    /* the node id it claims */
  const gchar *cert;    /* its node certificate, base64 DER (NULL: none) */
  const gchar *alias;   /* the URL it offers, on its HTTP server */
  const gchar *sig;     /* base64 signature over kith_peer_proof_data (id, alias) */
  GSocketAddress *from; /* the packet's source address */
} KithPeerClaim;

/* Checks @claim against trust anchor @anchor_pem at @now (seconds since the epoch): the
 * certificate chains to the anchor and is valid, permits @role, names the claimed node,
 * lists an alias base URL (SAN URI) whose server (scheme, host, port) the alias is on and
 * whose host is the packet's source address, and the signature over
 * kith_peer_proof_data (id, alias) verifies with the certificate's key (so a certificate
 * overheard on the LAN cannot be replayed). FALSE with a one-line reason in *@reason
 * (caller frees). */
gboolean kith_peer_proof_verify (const gchar *anchor_pem, const gchar *role, const KithPeerClaim *claim,
                                 gint64 now, gchar **reason);
/* The bytes a peer signs to prove it holds its certificate's key: "ID\nALIAS"; caller
 * unrefs. */
GBytes *kith_peer_proof_data (guint32 id, const gchar *alias);
/* The base64 signature by @key_pem over kith_peer_proof_data (@id, @alias), or NULL;
 * caller frees. */
gchar *kith_peer_proof_sign (const gchar *key_pem, guint32 id, const gchar *alias, GError **error);

/* The PEM of a certificate given as base64 DER (as in responses), or NULL; caller frees. */
gchar *kith_peer_cert_pem_from_base64 (const gchar *b64);
/* The base64 DER of a PEM certificate (for responses); or NULL when @pem holds none; caller frees. */
gchar *kith_peer_cert_base64_from_pem (const gchar *pem);

G_END_DECLS
