/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-crypto-cert.c — X.509 certificates: made, issued, read and verified against a
 * trust anchor, on the keys of kith-crypto.c */
#include "kith-crypto-cert.h"
#include "kith-crypto-private.h"

#include <gio/gio.h>
#include <gnutls/crypto.h>
#include <string.h>

/* Certificates start a little in the past so a peer whose clock lags still accepts them. */
#define KITH_CRYPTO_CLOCK_SKEW (5 * 60)
/* Extension values are short labels, ids and URLs. */
#define KITH_CRYPTO_EXTENSION_MAX 4096

static gnutls_x509_crt_t
kith_crypto_cert_load (const gchar *cert_pem, GError **error)
{
  g_auto (gnutls_x509_crt_t) crt = NULL;
  gnutls_datum_t d = kith_crypto_datum_from_string (cert_pem);

  if (!kith_crypto_check (gnutls_x509_crt_init (&crt), KITH_CRYPTO_ERROR_FAILED, "certificate", error))
    return NULL;
  if (!kith_crypto_check (gnutls_x509_crt_import (crt, &d, GNUTLS_X509_FMT_PEM),
                          KITH_CRYPTO_ERROR_BAD_FORMAT, "cannot read certificate", error))
    return NULL;
  return g_steal_pointer (&crt);
}

/* DER UTF8String: tag 0x0c, then a short or long-form length. */
static GByteArray *
kith_crypto_der_utf8 (const gchar *value, GError **error)
{
  gsize len = strlen (value);
  GByteArray *der = g_byte_array_sized_new (len + 4);
  guint8 head[4] = { 0x0c };
  guint head_len;

  if (len > KITH_CRYPTO_EXTENSION_MAX || !g_utf8_validate (value, len, NULL)) {
    g_set_error (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_BAD_FORMAT,
                 "extension value is not UTF-8 of at most %d bytes", KITH_CRYPTO_EXTENSION_MAX);
    g_byte_array_unref (der);
    return NULL;
  }
  if (len < 0x80) {
    head[1] = (guint8) len;
    head_len = 2;
  } else if (len < 0x100) {
    head[1] = 0x81;
    head[2] = (guint8) len;
    head_len = 3;
  } else {
    head[1] = 0x82;
    head[2] = (guint8) (len >> 8);
    head[3] = (guint8) (len & 0xff);
    head_len = 4;
  }
  g_byte_array_append (der, head, head_len);
  g_byte_array_append (der, (const guint8 *) value, (guint) len);
  return der;
}

static gchar *
kith_crypto_der_utf8_parse (const guint8 *der, gsize size, GError **error)
{
  gsize len, off;

  if (size < 2 || der[0] != 0x0c)
    goto bad;
  if (der[1] < 0x80) {
    len = der[1];
    off = 2;
  } else if (der[1] == 0x81 && size >= 3) {
    len = der[2];
    off = 3;
  } else if (der[1] == 0x82 && size >= 4) {
    len = ((gsize) der[2] << 8) | der[3];
    off = 4;
  } else {
    goto bad;
  }
  if (off + len != size || !g_utf8_validate ((const gchar *) der + off, len, NULL))
    goto bad;
  return g_strndup ((const gchar *) der + off, len);
bad:
  g_set_error_literal (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_BAD_FORMAT,
                       "extension is not a DER UTF8String");
  return NULL;
}

static gboolean
kith_crypto_cert_fill (gnutls_x509_crt_t crt, gnutls_pubkey_t pub, const KithCertSpec *spec,
                       GError **error)
{
  guint8 serial[16];
  guint8 key_id[64];
  size_t key_id_size = sizeof (key_id);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 not_before = spec->not_before != 0 ? spec->not_before : now - KITH_CRYPTO_CLOCK_SKEW;

  if (!kith_crypto_check (gnutls_rnd (GNUTLS_RND_NONCE, serial, sizeof (serial)),
                          KITH_CRYPTO_ERROR_FAILED, "random serial", error))
    return FALSE;
  serial[0] &= 0x7f; /* a positive INTEGER */
  if (!kith_crypto_check (gnutls_x509_crt_set_version (crt, 3), KITH_CRYPTO_ERROR_FAILED, "version", error) ||
      !kith_crypto_check (gnutls_x509_crt_set_serial (crt, serial, sizeof (serial)), KITH_CRYPTO_ERROR_FAILED,
                          "serial", error) ||
      !kith_crypto_check (gnutls_x509_crt_set_activation_time (crt, (time_t) not_before),
                          KITH_CRYPTO_ERROR_FAILED, "activation time", error) ||
      !kith_crypto_check (gnutls_x509_crt_set_expiration_time (crt, (time_t) spec->not_after),
                          KITH_CRYPTO_ERROR_FAILED, "expiration time", error) ||
      !kith_crypto_check (gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0, spec->common_name,
                                                         (unsigned) strlen (spec->common_name)),
                          KITH_CRYPTO_ERROR_FAILED, "common name", error) ||
      !kith_crypto_check (gnutls_x509_crt_set_pubkey (crt, pub), KITH_CRYPTO_ERROR_BAD_KEY, "public key", error) ||
      !kith_crypto_check (gnutls_x509_crt_set_basic_constraints (crt, spec->is_ca, spec->is_ca ? 0 : -1),
                          KITH_CRYPTO_ERROR_FAILED, "basic constraints", error) ||
      !kith_crypto_check (gnutls_x509_crt_set_key_usage (crt, spec->is_ca ? GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN
                                                                          : GNUTLS_KEY_DIGITAL_SIGNATURE),
                          KITH_CRYPTO_ERROR_FAILED, "key usage", error) ||
      !kith_crypto_check (gnutls_pubkey_get_key_id (pub, 0, key_id, &key_id_size), KITH_CRYPTO_ERROR_BAD_KEY,
                          "key id", error) ||
      !kith_crypto_check (gnutls_x509_crt_set_subject_key_id (crt, key_id, key_id_size),
                          KITH_CRYPTO_ERROR_FAILED, "subject key id", error))
    return FALSE;
  for (guint i = 0; spec->san_uris != NULL && spec->san_uris[i] != NULL; i++) {
    if (!kith_crypto_check (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_URI, spec->san_uris[i],
                                                                  (unsigned) strlen (spec->san_uris[i]),
                                                                  GNUTLS_FSAN_APPEND),
                            KITH_CRYPTO_ERROR_FAILED, "subjectAltName URI", error))
      return FALSE;
  }
  for (guint i = 0; spec->san_hosts != NULL && spec->san_hosts[i] != NULL; i++) {
    g_autoptr (GInetAddress) ip = g_inet_address_new_from_string (spec->san_hosts[i]);
    gint ret = ip != NULL
                   ? gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_IPADDRESS, g_inet_address_to_bytes (ip),
                                                           (unsigned) g_inet_address_get_native_size (ip),
                                                           GNUTLS_FSAN_APPEND)
                   : gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_DNSNAME, spec->san_hosts[i],
                                                           (unsigned) strlen (spec->san_hosts[i]), GNUTLS_FSAN_APPEND);
    if (!kith_crypto_check (ret, KITH_CRYPTO_ERROR_FAILED, "subjectAltName host", error))
      return FALSE;
  }
  if (spec->san_hosts != NULL &&
      !kith_crypto_check (gnutls_x509_crt_set_key_purpose_oid (crt, GNUTLS_KP_TLS_WWW_SERVER, 0),
                          KITH_CRYPTO_ERROR_FAILED, "extended key usage", error))
    return FALSE;
  for (guint i = 0; spec->extensions != NULL && spec->extensions[i].oid != NULL; i++) {
    g_autoptr (GByteArray) der = kith_crypto_der_utf8 (spec->extensions[i].value, error);
    if (der == NULL)
      return FALSE;
    if (!kith_crypto_check (gnutls_x509_crt_set_extension_by_oid (crt, spec->extensions[i].oid, der->data,
                                                                  der->len, 0),
                            KITH_CRYPTO_ERROR_FAILED, "extension", error))
      return FALSE;
  }
  return TRUE;
}

/* Fills @crt from @spec for @pub, signs it with @issuer_key as @issuer (NULL: self-signed). */
static gchar *
kith_crypto_cert_make (gnutls_pubkey_t pub, const KithCertSpec *spec, gnutls_x509_crt_t issuer,
                       gnutls_privkey_t issuer_key, GError **error)
{
  g_auto (gnutls_x509_crt_t) crt = NULL;
  g_auto (KithDatum) out = { NULL, 0 };

  g_return_val_if_fail (spec != NULL && spec->common_name != NULL, NULL);
  if (!kith_crypto_check (gnutls_x509_crt_init (&crt), KITH_CRYPTO_ERROR_FAILED, "certificate", error))
    return NULL;
  if (!kith_crypto_cert_fill (crt, pub, spec, error))
    return NULL;
  if (issuer != NULL) {
    guint8 aki[64];
    size_t aki_size = sizeof (aki);
    if (gnutls_x509_crt_get_subject_key_id (issuer, aki, &aki_size, NULL) >= 0 &&
        !kith_crypto_check (gnutls_x509_crt_set_authority_key_id (crt, aki, aki_size),
                            KITH_CRYPTO_ERROR_FAILED, "authority key id", error))
      return NULL;
  }
  if (!kith_crypto_check (gnutls_x509_crt_privkey_sign (crt, issuer != NULL ? issuer : crt, issuer_key,
                                                        GNUTLS_DIG_SHA512, 0),
                          KITH_CRYPTO_ERROR_BAD_KEY, "cannot sign certificate", error))
    return NULL;
  if (!kith_crypto_check (gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_PEM, &out), KITH_CRYPTO_ERROR_FAILED,
                          "cannot export certificate", error))
    return NULL;
  return kith_crypto_datum_steal_string (&out);
}

gchar *
kith_crypto_cert_self_signed (const gchar *key_pem, const KithCertSpec *spec, GError **error)
{
  g_auto (gnutls_privkey_t) key = kith_crypto_privkey_load (key_pem, error);
  g_auto (gnutls_pubkey_t) pub = NULL;

  if (key == NULL)
    return NULL;
  pub = kith_crypto_pubkey_from_privkey (key, error);
  if (pub == NULL)
    return NULL;
  return kith_crypto_cert_make (pub, spec, NULL, key, error);
}

gchar *
kith_crypto_cert_issue (const gchar *subject_pubkey_pem, const KithCertSpec *spec,
                        const gchar *issuer_cert_pem, const gchar *issuer_key_pem, GError **error)
{
  g_auto (gnutls_pubkey_t) pub = kith_crypto_pubkey_load (subject_pubkey_pem, error);
  g_auto (gnutls_x509_crt_t) issuer = NULL;
  g_auto (gnutls_privkey_t) issuer_key = NULL;

  if (pub == NULL)
    return NULL;
  issuer = kith_crypto_cert_load (issuer_cert_pem, error);
  if (issuer == NULL)
    return NULL;
  issuer_key = kith_crypto_privkey_load (issuer_key_pem, error);
  if (issuer_key == NULL)
    return NULL;
  return kith_crypto_cert_make (pub, spec, issuer, issuer_key, error);
}

gchar *
kith_crypto_cert_get_extension (const gchar *cert_pem, const gchar *oid, GError **error)
{
  g_auto (gnutls_x509_crt_t) crt = kith_crypto_cert_load (cert_pem, error);
  g_auto (KithDatum) der = { NULL, 0 };
  unsigned int critical = 0;

  if (crt == NULL)
    return NULL;
  if (gnutls_x509_crt_get_extension_by_oid2 (crt, oid, 0, &der, &critical) < 0) {
    g_set_error (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_BAD_FORMAT,
                 "certificate has no extension %s", oid);
    return NULL;
  }
  return kith_crypto_der_utf8_parse (der.data, der.size, error);
}

gchar **
kith_crypto_cert_get_san_uris (const gchar *cert_pem, GError **error)
{
  g_auto (gnutls_x509_crt_t) crt = kith_crypto_cert_load (cert_pem, error);
  g_autoptr (GPtrArray) uris = g_ptr_array_new_with_free_func (g_free);

  if (crt == NULL)
    return NULL;
  for (guint i = 0;; i++) {
    gchar buf[KITH_CRYPTO_EXTENSION_MAX + 1];
    size_t size = sizeof (buf) - 1;
    unsigned int type = 0;
    int rc = gnutls_x509_crt_get_subject_alt_name2 (crt, i, buf, &size, &type, NULL);
    if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
      break;
    if (!kith_crypto_check (rc, KITH_CRYPTO_ERROR_BAD_FORMAT, "subjectAltName", error))
      return NULL;
    if (type == GNUTLS_SAN_URI)
      g_ptr_array_add (uris, g_strndup (buf, size));
  }
  g_ptr_array_add (uris, NULL);
  return (gchar **) g_ptr_array_free (g_steal_pointer (&uris), FALSE);
}

gchar *
kith_crypto_cert_get_common_name (const gchar *cert_pem, GError **error)
{
  g_auto (gnutls_x509_crt_t) crt = kith_crypto_cert_load (cert_pem, error);
  gchar buf[256];
  size_t size = sizeof (buf);

  if (crt == NULL)
    return NULL;
  if (!kith_crypto_check (gnutls_x509_crt_get_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &size),
                          KITH_CRYPTO_ERROR_BAD_FORMAT, "common name", error))
    return NULL;
  return g_strndup (buf, size);
}

static gboolean
kith_crypto_check_validity (gnutls_x509_crt_t crt, const gchar *what, gint64 now, GError **error)
{
  gint64 not_before = gnutls_x509_crt_get_activation_time (crt);
  gint64 not_after = gnutls_x509_crt_get_expiration_time (crt);

  if (now < not_before) {
    g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (not_before);
    g_autofree gchar *iso = dt != NULL ? g_date_time_format_iso8601 (dt) : g_strdup ("?");
    g_set_error (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_NOT_YET_VALID,
                 "%s is not valid before %s (check the clock)", what, iso);
    return FALSE;
  }
  if (now > not_after) {
    g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (not_after);
    g_autofree gchar *iso = dt != NULL ? g_date_time_format_iso8601 (dt) : g_strdup ("?");
    g_set_error (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_EXPIRED, "%s expired on %s", what, iso);
    return FALSE;
  }
  return TRUE;
}

KithPublicKey *
kith_crypto_verify_cert (const gchar *cert_pem, const gchar *anchor_pem, gint64 now, GError **error)
{
  g_auto (gnutls_x509_crt_t) crt = kith_crypto_cert_load (cert_pem, error);
  g_auto (gnutls_x509_crt_t) anchor = NULL;
  gnutls_x509_trust_list_t tl = NULL;
  g_auto (gnutls_pubkey_t) pub = NULL;
  unsigned int status = 0;
  int rc;

  if (crt == NULL)
    return NULL;
  anchor = kith_crypto_cert_load (anchor_pem, error);
  if (anchor == NULL) {
    g_prefix_error (error, "trust anchor: ");
    return NULL;
  }
  if (!kith_crypto_check (gnutls_x509_trust_list_init (&tl, 0), KITH_CRYPTO_ERROR_FAILED, "trust list", error))
    return NULL;
  if (!kith_crypto_check_validity (anchor, "trust anchor", now, error)) {
    gnutls_x509_trust_list_deinit (tl, 1);
    return NULL;
  }
  if (gnutls_x509_trust_list_add_cas (tl, &anchor, 1, 0) != 1) {
    gnutls_x509_trust_list_deinit (tl, 1);
    g_set_error_literal (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_BAD_FORMAT, "unusable trust anchor");
    return NULL;
  }
  anchor = NULL; /* owned by @tl now */
  /* time is checked against the caller's @now (above and below) so tests can move the clock */
  rc = gnutls_x509_trust_list_verify_crt2 (tl, &crt, 1, NULL, 0,
                                           GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
                                               GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS,
                                           &status, NULL);
  if (rc < 0 || status != 0) {
    g_auto (KithDatum) why = { NULL, 0 };
    if (rc >= 0)
      gnutls_certificate_verification_status_print (status, GNUTLS_CRT_X509, &why, 0);
    g_set_error (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_UNTRUSTED,
                 "certificate does not chain to the trust anchor: %s",
                 rc < 0 ? gnutls_strerror (rc) : (const gchar *) why.data);
    gnutls_x509_trust_list_deinit (tl, 1);
    return NULL;
  }
  gnutls_x509_trust_list_deinit (tl, 1);
  if (!kith_crypto_check_validity (crt, "certificate", now, error))
    return NULL;
  if (!kith_crypto_check (gnutls_pubkey_init (&pub), KITH_CRYPTO_ERROR_FAILED, "key", error))
    return NULL;
  if (!kith_crypto_check (gnutls_pubkey_import_x509 (pub, crt, 0), KITH_CRYPTO_ERROR_BAD_KEY,
                          "certificate key", error))
    return NULL;
  return kith_public_key_new (g_steal_pointer (&pub));
}
