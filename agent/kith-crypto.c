/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-crypto.c — keys and detached signatures over raw bytes, on top of GnuTLS; the
 * certificates built on them are kith-crypto-cert.c */
#include "kith-crypto.h"
#include "kith-crypto-private.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gnutls/crypto.h>
#include <string.h>
#ifdef G_OS_UNIX
#include <sys/stat.h>
#include <unistd.h>
#endif

G_DEFINE_QUARK (kith-crypto-error-quark, kith_crypto_error)

struct _KithPublicKey {
  gnutls_pubkey_t pubkey;
};

void
kith_crypto_datum_clear (KithDatum *d)
{
  gnutls_free (d->data);
  d->data = NULL;
  d->size = 0;
}

gboolean
kith_crypto_check (int rc, KithCryptoError code, const gchar *what, GError **error)
{
  if (rc >= 0)
    return TRUE;
  g_set_error (error, KITH_CRYPTO_ERROR, code, "%s: %s", what, gnutls_strerror (rc));
  return FALSE;
}

gnutls_datum_t
kith_crypto_datum_from_string (const gchar *s)
{
  gnutls_datum_t d = { (unsigned char *) s, (unsigned int) strlen (s) };
  return d;
}

gchar *
kith_crypto_datum_steal_string (KithDatum *d)
{
  gchar *s = g_strndup ((const gchar *) d->data, d->size);
  kith_crypto_datum_clear (d);
  return s;
}

gnutls_privkey_t
kith_crypto_privkey_load (const gchar *key_pem, GError **error)
{
  g_auto (gnutls_privkey_t) key = NULL;
  gnutls_datum_t d = kith_crypto_datum_from_string (key_pem);

  if (!kith_crypto_check (gnutls_privkey_init (&key), KITH_CRYPTO_ERROR_FAILED, "key", error))
    return NULL;
  if (!kith_crypto_check (gnutls_privkey_import_x509_raw (key, &d, GNUTLS_X509_FMT_PEM, NULL, 0),
                          KITH_CRYPTO_ERROR_BAD_KEY, "cannot read private key", error))
    return NULL;
  return g_steal_pointer (&key);
}

gnutls_pubkey_t
kith_crypto_pubkey_load (const gchar *pubkey_pem, GError **error)
{
  g_auto (gnutls_pubkey_t) pub = NULL;
  gnutls_datum_t d = kith_crypto_datum_from_string (pubkey_pem);

  if (!kith_crypto_check (gnutls_pubkey_init (&pub), KITH_CRYPTO_ERROR_FAILED, "key", error))
    return NULL;
  if (!kith_crypto_check (gnutls_pubkey_import (pub, &d, GNUTLS_X509_FMT_PEM),
                          KITH_CRYPTO_ERROR_BAD_KEY, "cannot read public key", error))
    return NULL;
  return g_steal_pointer (&pub);
}

/* Ed25519 signs the message itself; anything else (ECDSA P-256) signs its SHA-256. */
static gnutls_sign_algorithm_t
kith_crypto_sign_algorithm (gnutls_pk_algorithm_t pk)
{
  if (pk == GNUTLS_PK_EDDSA_ED25519)
    return GNUTLS_SIGN_EDDSA_ED25519;
  return gnutls_pk_to_sign (pk, GNUTLS_DIG_SHA256);
}

gchar *
kith_crypto_key_generate (GError **error)
{
  g_auto (gnutls_x509_privkey_t) key = NULL;
  g_auto (KithDatum) out = { NULL, 0 };

  if (!kith_crypto_check (gnutls_x509_privkey_init (&key), KITH_CRYPTO_ERROR_FAILED, "key", error))
    return NULL;
  if (!kith_crypto_check (gnutls_x509_privkey_generate (key, GNUTLS_PK_EDDSA_ED25519,
                                                        GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_ED25519), 0),
                          KITH_CRYPTO_ERROR_FAILED, "cannot generate Ed25519 key", error))
    return NULL;
  if (!kith_crypto_check (gnutls_x509_privkey_export2_pkcs8 (key, GNUTLS_X509_FMT_PEM, NULL,
                                                             GNUTLS_PKCS_PLAIN, &out),
                          KITH_CRYPTO_ERROR_FAILED, "cannot export key", error))
    return NULL;
  return kith_crypto_datum_steal_string (&out);
}

gnutls_pubkey_t
kith_crypto_pubkey_from_privkey (gnutls_privkey_t key, GError **error)
{
  g_auto (gnutls_pubkey_t) pub = NULL;

  if (!kith_crypto_check (gnutls_pubkey_init (&pub), KITH_CRYPTO_ERROR_FAILED, "key", error))
    return NULL;
  if (!kith_crypto_check (gnutls_pubkey_import_privkey (pub, key, 0, 0), KITH_CRYPTO_ERROR_BAD_KEY,
                          "cannot derive public key", error))
    return NULL;
  return g_steal_pointer (&pub);
}

gchar *
kith_crypto_key_get_public (const gchar *key_pem, GError **error)
{
  g_auto (gnutls_privkey_t) key = kith_crypto_privkey_load (key_pem, error);
  g_auto (gnutls_pubkey_t) pub = NULL;
  g_auto (KithDatum) out = { NULL, 0 };

  if (key == NULL)
    return NULL;
  pub = kith_crypto_pubkey_from_privkey (key, error);
  if (pub == NULL)
    return NULL;
  if (!kith_crypto_check (gnutls_pubkey_export2 (pub, GNUTLS_X509_FMT_PEM, &out),
                          KITH_CRYPTO_ERROR_FAILED, "cannot export public key", error))
    return NULL;
  return kith_crypto_datum_steal_string (&out);
}

gchar *
kith_crypto_read_private_key (const gchar *path, GError **error)
{
  gchar *contents = NULL;
#ifdef G_OS_UNIX
  GStatBuf st;

  if (g_stat (path, &st) != 0) {
    g_set_error (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_BAD_KEY, "cannot read %s: %s", path,
                 g_strerror (errno));
    return NULL;
  }
  if ((st.st_mode & 077) != 0) {
    g_set_error (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_BAD_KEY,
                 "private key %s is readable by others (mode %03o); chmod 600 it", path,
                 (unsigned) (st.st_mode & 0777));
    return NULL;
  }
#endif
  if (!g_file_get_contents (path, &contents, NULL, error)) {
    g_prefix_error (error, "cannot read private key: ");
    return NULL;
  }
  return contents;
}

GBytes *
kith_crypto_sign (const gchar *key_pem, GBytes *data, GError **error)
{
  g_auto (gnutls_privkey_t) key = kith_crypto_privkey_load (key_pem, error);
  g_auto (KithDatum) sig = { NULL, 0 };
  gnutls_datum_t d;
  gsize size = 0;

  if (key == NULL)
    return NULL;
  d.data = (unsigned char *) g_bytes_get_data (data, &size);
  d.size = (unsigned int) size;
  if (!kith_crypto_check (gnutls_privkey_sign_data2 (key,
                                                     kith_crypto_sign_algorithm (gnutls_privkey_get_pk_algorithm (key, NULL)),
                                                     0, &d, &sig),
                          KITH_CRYPTO_ERROR_BAD_KEY, "cannot sign", error))
    return NULL;
  return g_bytes_new (sig.data, sig.size);
}

KithPublicKey *
kith_public_key_new (gnutls_pubkey_t pubkey)
{
  KithPublicKey *key = g_new0 (KithPublicKey, 1);

  key->pubkey = pubkey;
  return key;
}

void
kith_public_key_free (KithPublicKey *key)
{
  if (key == NULL)
    return;
  gnutls_pubkey_deinit (key->pubkey);
  g_free (key);
}

gboolean
kith_public_key_verify (KithPublicKey *key, GBytes *data, GBytes *signature, GError **error)
{
  gnutls_datum_t d, s;
  gsize size = 0;
  int rc;

  d.data = (unsigned char *) g_bytes_get_data (data, &size);
  d.size = (unsigned int) size;
  s.data = (unsigned char *) g_bytes_get_data (signature, &size);
  s.size = (unsigned int) size;
  rc = gnutls_pubkey_verify_data2 (key->pubkey,
                                   kith_crypto_sign_algorithm (gnutls_pubkey_get_pk_algorithm (key->pubkey, NULL)),
                                   0, &d, &s);
  if (rc < 0) {
    g_set_error (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_BAD_SIGNATURE, "signature does not match: %s",
                 gnutls_strerror (rc));
    return FALSE;
  }
  return TRUE;
}

gchar *
kith_crypto_random_hex (gsize length, GError **error)
{
  g_autofree guint8 *buf = g_malloc (length);
  GString *hex = g_string_sized_new (length * 2 + 1);

  if (gnutls_rnd (GNUTLS_RND_KEY, buf, length) < 0) {
    g_string_free (hex, TRUE);
    g_set_error_literal (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_FAILED, "no random bytes available");
    return NULL;
  }
  for (gsize i = 0; i < length; i++)
    g_string_append_printf (hex, "%02x", buf[i]);
  return g_string_free (hex, FALSE);
}

gchar *
kith_crypto_sha256_hex (GBytes *data)
{
  return g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, data);
}