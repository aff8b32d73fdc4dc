/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-crypto.h — keys and signatures (GnuTLS), shared by the backend, the update plugin
 * and the upload plugin. Everything crosses this API as PEM text or bytes so callers never
 * touch GnuTLS types. It includes the certificates (kith-crypto-cert.h) and detached
 * signature documents (kith-crypto-detached.h) made of them: one include for all of it. */
#pragma once

#include <glib.h>

#include "kith-crypto-cert.h"
#include "kith-crypto-detached.h"

G_BEGIN_DECLS

#define KITH_CRYPTO_ERROR (kith_crypto_error_quark ())

/**
 * KithCryptoError:
 * @KITH_CRYPTO_ERROR_FAILED: an unexpected GnuTLS or I/O failure
 * @KITH_CRYPTO_ERROR_BAD_SIGNATURE: the signature does not match the data
 * @KITH_CRYPTO_ERROR_UNTRUSTED: the certificate does not chain to the trust anchor
 * @KITH_CRYPTO_ERROR_EXPIRED: a certificate or signed document is past its expiry
 * @KITH_CRYPTO_ERROR_NOT_YET_VALID: a certificate's validity starts in the future
 * @KITH_CRYPTO_ERROR_BAD_KEY: a key is unreadable, of an unsupported kind or unfit
 * @KITH_CRYPTO_ERROR_BAD_FORMAT: PEM, JSON or base64 that cannot be parsed
 * @KITH_CRYPTO_ERROR_ROLLBACK: a signed document is older than the one already held
 */
typedef enum {
  KITH_CRYPTO_ERROR_FAILED,
  KITH_CRYPTO_ERROR_BAD_SIGNATURE,
  KITH_CRYPTO_ERROR_UNTRUSTED,
  KITH_CRYPTO_ERROR_EXPIRED,
  KITH_CRYPTO_ERROR_NOT_YET_VALID,
  KITH_CRYPTO_ERROR_BAD_KEY,
  KITH_CRYPTO_ERROR_BAD_FORMAT,
  KITH_CRYPTO_ERROR_ROLLBACK,
} KithCryptoError;

GQuark kith_crypto_error_quark (void);

/* A new Ed25519 private key as PKCS#8 PEM; caller frees. */
gchar *kith_crypto_key_generate (GError **error);
/* The public key of private key @key_pem as SubjectPublicKeyInfo PEM; caller frees. */
gchar *kith_crypto_key_get_public (const gchar *key_pem, GError **error);

/* Reads a private key PEM from @path, refusing one readable by group or others; caller frees. */
gchar *kith_crypto_read_private_key (const gchar *path, GError **error);

/* A detached signature of @data by private key @key_pem; caller unrefs. */
GBytes *kith_crypto_sign (const gchar *key_pem, GBytes *data, GError **error);

/* A public key taken from a verified certificate. */
typedef struct _KithPublicKey KithPublicKey;
void kith_public_key_free (KithPublicKey *key);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithPublicKey, kith_public_key_free)
/* Checks @signature over @data with @key: KITH_CRYPTO_ERROR_BAD_SIGNATURE on mismatch. */
gboolean kith_public_key_verify (KithPublicKey *key, GBytes *data, GBytes *signature, GError **error);

/* @length random bytes as lowercase hex (2 × @length digits), from the system CSPRNG;
 * caller frees. */
gchar *kith_crypto_random_hex (gsize length, GError **error);
/* The lowercase hex SHA-256 of @data; caller frees. */
gchar *kith_crypto_sha256_hex (GBytes *data);

G_END_DECLS
