/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peer-proof.c — the enrolled-peer check: certificate chain, role, node, alias, proof */
#include "kith-peer-proof.h"

#include <string.h>

#include "kith-crypto.h"

#define KITH_PEM_CERT_BEGIN "-----BEGIN CERTIFICATE-----\n"
#define KITH_PEM_CERT_END "-----END CERTIFICATE-----\n"

gchar *
kith_peer_cert_pem_from_base64 (const gchar *b64)
{
  g_autofree guchar *der = NULL;
  g_autofree gchar *clean = NULL;
  GString *pem;
  gsize len = 0, clean_len;

  if (b64 == NULL || *b64 == '\0')
    return NULL;
  der = g_base64_decode (b64, &len);
  if (len == 0)
    return NULL;
  clean = g_base64_encode (der, len);
  clean_len = strlen (clean);
  pem = g_string_new (KITH_PEM_CERT_BEGIN);
  for (gsize i = 0; i < clean_len; i += 64) {
    g_string_append_len (pem, clean + i, (gssize) MIN (64, clean_len - i));
    g_string_append_c (pem, '\n');
  }
  g_string_append (pem, KITH_PEM_CERT_END);
  return g_string_free (pem, FALSE);
}

gchar *
kith_peer_cert_base64_from_pem (const gchar *pem)
{
  const gchar *begin = pem != NULL ? strstr (pem, KITH_PEM_CERT_BEGIN) : NULL;
  const gchar *end = begin != NULL ? strstr (begin, "-----END CERTIFICATE-----") : NULL;
  GString *b64 = g_string_new (NULL);

  if (begin == NULL || end == NULL)
    return g_string_free (b64, TRUE);
  for (const gchar *p = begin + strlen (KITH_PEM_CERT_BEGIN); p < end; p++) {
    if (!g_ascii_isspace (*p))
      g_string_append_c (b64, *p);
  }
  return g_string_free (b64, FALSE);
}

GBytes *
kith_peer_proof_data (guint32 id, const gchar *alias)
{
  gchar *data = g_strdup_printf ("%u\n%s", id, alias);
  return g_bytes_new_take (data, strlen (data));
}

gchar *
kith_peer_proof_sign (const gchar *key_pem, guint32 id, const gchar *alias, GError **error)
{
  g_autoptr (GBytes) proof = kith_peer_proof_data (id, alias);
  g_autoptr (GBytes) sig = kith_crypto_sign (key_pem, proof, error);

  if (sig == NULL)
    return NULL;
  return g_base64_encode (g_bytes_get_data (sig, NULL), g_bytes_get_size (sig));
}

static gboolean
kith_peer_fail (gchar **reason, const gchar *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
kith_peer_fail (gchar **reason, const gchar *format, ...)
{
  va_list args;

  va_start (args, format);
  *reason = g_strdup_vprintf (format, args);
  va_end (args);
  return FALSE;
}

static gboolean
kith_peer_roles_permit (const gchar *roles, const gchar *role)
{
  g_auto (GStrv) list = g_strsplit (roles, ",", -1);
  return g_strv_contains ((const gchar *const *) list, role);
}

static gboolean
kith_peer_same_server (GUri *a, GUri *b)
{
  return g_ascii_strcasecmp (g_uri_get_scheme (a), g_uri_get_scheme (b)) == 0 &&
         g_strcmp0 (g_uri_get_host (a), g_uri_get_host (b)) == 0 && g_uri_get_port (a) == g_uri_get_port (b);
}

/* A SAN URI of @pem naming the server @alias is on, whose host is @from's address. */
static gboolean
kith_peer_check_alias (const gchar *pem, const gchar *alias, GSocketAddress *from, gchar **reason)
{
  g_auto (GStrv) sans = kith_crypto_cert_get_san_uris (pem, NULL);
  g_autoptr (GUri) target = g_uri_parse (alias, G_URI_FLAGS_NONE, NULL);
  g_autofree gchar *source = NULL;

  if (from == NULL || !G_IS_INET_SOCKET_ADDRESS (from))
    return kith_peer_fail (reason, "offer without a source address");
  if (target == NULL || g_uri_get_host (target) == NULL)
    return kith_peer_fail (reason, "alias %s is not a URL", alias);
  source = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (from)));
  for (guint i = 0; sans != NULL && sans[i] != NULL; i++) {
    g_autoptr (GUri) uri = g_uri_parse (sans[i], G_URI_FLAGS_NONE, NULL);
    if (uri == NULL || g_uri_get_host (uri) == NULL || !kith_peer_same_server (uri, target))
      continue;
    if (g_strcmp0 (g_uri_get_host (uri), source) != 0)
      return kith_peer_fail (reason, "alias host %s is not the packet source %s", g_uri_get_host (uri), source);
    return TRUE;
  }
  return kith_peer_fail (reason, "alias %s is not in the certificate", alias);
}

gboolean
kith_peer_proof_verify (const gchar *anchor_pem, const gchar *role, const KithPeerClaim *claim, gint64 now,
                        gchar **reason)
{
  g_autofree gchar *pem = kith_peer_cert_pem_from_base64 (claim->cert);
  g_autoptr (KithPublicKey) key = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *roles = NULL;
  g_autofree gchar *node = NULL;
  g_autofree guchar *sig = NULL;
  g_autoptr (GBytes) sig_bytes = NULL;
  g_autoptr (GBytes) proof = NULL;
  gsize sig_len = 0;

  g_return_val_if_fail (reason != NULL, FALSE);
  if (pem == NULL)
    return kith_peer_fail (reason, "no certificate");
  if (anchor_pem == NULL)
    return kith_peer_fail (reason, "no trust anchor configured");
  key = kith_crypto_verify_cert (pem, anchor_pem, now, &error);
  if (key == NULL)
    return kith_peer_fail (reason, "certificate refused: %s", error->message);
  roles = kith_crypto_cert_get_extension (pem, KITH_CRYPTO_OID_TASKS, NULL);
  if (roles == NULL || !kith_peer_roles_permit (roles, role))
    return kith_peer_fail (reason, "certificate does not permit %s", role);
  node = kith_crypto_cert_get_extension (pem, KITH_CRYPTO_OID_NODE_ID, NULL);
  if (node == NULL || g_strcmp0 (node, claim->node) != 0)
    return kith_peer_fail (reason, "certificate of node %s offered by %s", node != NULL ? node : "?",
                           claim->node != NULL ? claim->node : "?");
  if (claim->alias == NULL)
    return kith_peer_fail (reason, "offer without alias");
  if (!kith_peer_check_alias (pem, claim->alias, claim->from, reason))
    return FALSE;
  if (claim->sig != NULL)
    sig = g_base64_decode (claim->sig, &sig_len);
  if (sig_len == 0)
    return kith_peer_fail (reason, "no proof of possession");
  sig_bytes = g_bytes_new (sig, sig_len);
  proof = kith_peer_proof_data (claim->id, claim->alias);
  if (!kith_public_key_verify (key, proof, sig_bytes, &error))
    return kith_peer_fail (reason, "proof of possession does not verify: %s", error->message);
  return TRUE;
}
