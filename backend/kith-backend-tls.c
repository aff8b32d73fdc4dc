/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-backend-tls.c — the backend's TLS server certificate */
#include "kith-backend-tls.h"

#include "kith-backend-store.h"
#include "kith-crypto.h"

gchar *
kith_backend_tls_issue_pem (const gchar *dir, const gchar *const *hosts, gint64 validity, GError **error)
{
  g_autofree gchar *ca_path = g_build_filename (dir, KITH_BACKEND_CA_FILE, NULL);
  g_autofree gchar *ca_key_path = g_build_filename (dir, KITH_BACKEND_CA_KEY_FILE, NULL);
  g_autofree gchar *ca_cert = NULL;
  g_autofree gchar *ca_key = NULL;
  g_autofree gchar *key = NULL;
  g_autofree gchar *pub = NULL;
  g_autofree gchar *cert = NULL;
  KithCertSpec spec = {
    .common_name = hosts[0],
    .not_after = g_get_real_time () / G_USEC_PER_SEC + validity,
    .san_hosts = hosts,
  };

  if (!g_file_get_contents (ca_path, &ca_cert, NULL, error) ||
      (ca_key = kith_crypto_read_private_key (ca_key_path, error)) == NULL ||
      (key = kith_crypto_key_generate (error)) == NULL ||
      (pub = kith_crypto_key_get_public (key, error)) == NULL ||
      (cert = kith_crypto_cert_issue (pub, &spec, ca_cert, ca_key, error)) == NULL)
    return NULL;
  return g_strconcat (cert, "\n", key, NULL);
}

GTlsCertificate *
kith_backend_tls_certificate (const gchar *dir, const gchar *const *hosts, gint64 validity, GError **error)
{
  g_autofree gchar *pem = kith_backend_tls_issue_pem (dir, hosts, validity, error);

  return pem != NULL ? g_tls_certificate_new_from_pem (pem, -1, error) : NULL;
}
