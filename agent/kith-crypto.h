/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-crypto.h — keys, certificates and detached signatures (GnuTLS), shared by
 * the backend, the update plugin and the upload plugin. Everything crosses this
 * API as PEM text or bytes so callers never touch GnuTLS types. */
#pragma once

#include <glib.h>

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

/* Kith's private OID arc: a 2.25 (UUID) OID from 62 random bits — a full 128-bit UUID arc
 * does not fit the long that GnuTLS/libtasn1 use per arc. A vendor with an IANA enterprise
 * number would use its own arc. Extensions below it carry UTF-8 text (DER UTF8String). */
#define KITH_CRYPTO_OID_ARC "2.25.3907238811407180093"
/* Node certificates: the node id (32 hex digits). */
#define KITH_CRYPTO_OID_NODE_ID KITH_CRYPTO_OID_ARC ".1"
/* Node certificates: the permitted tasks (roles), comma separated ("upload,relay,serve"). */
#define KITH_CRYPTO_OID_TASKS KITH_CRYPTO_OID_ARC ".2"

/* A non-critical certificate extension whose value is UTF-8 text. */
typedef struct {
  const gchar *oid;
  const gchar *value;
} KithCertExtension;

/**
 * KithCertSpec:
 * @common_name: the subject CN
 * @not_before: validity start, unix seconds (0: now minus 5 minutes of clock skew)
 * @not_after: validity end, unix seconds
 * @is_ca: a CA (may sign certificates) rather than a signing leaf
 * @san_uris: (nullable): subjectAltName URIs, e.g. a node's alias base URL
 * @extensions: (nullable): extra extensions, ended by an entry with oid NULL
 * @san_hosts: (nullable): subjectAltName IP addresses and DNS names of a TLS server;
 *   when set, the certificate is for TLS server authentication (extended key usage)
 *
 * What a certificate should say. Borrowed strings; the caller keeps ownership.
 */
typedef struct {
  const gchar *common_name;
  gint64 not_before;
  gint64 not_after;
  gboolean is_ca;
  const gchar *const *san_uris;
  const KithCertExtension *extensions;
  const gchar *const *san_hosts;
} KithCertSpec;

/* A new Ed25519 private key as PKCS#8 PEM; caller frees. */
gchar *kith_crypto_key_generate (GError **error);
/* The public key of private key @key_pem as SubjectPublicKeyInfo PEM; caller frees. */
gchar *kith_crypto_key_get_public (const gchar *key_pem, GError **error);

/* Reads a private key PEM from @path, refusing one readable by group or others; caller frees. */
gchar *kith_crypto_read_private_key (const gchar *path, GError **error);

/* A self-signed certificate for @spec signed by @key_pem; PEM, caller frees. */
gchar *kith_crypto_cert_self_signed (const gchar *key_pem, const KithCertSpec *spec, GError **error);
/* A certificate for public key @subject_pubkey_pem described by @spec, signed by the
 * CA (@issuer_cert_pem, @issuer_key_pem); PEM, caller frees. */
gchar *kith_crypto_cert_issue (const gchar *subject_pubkey_pem, const KithCertSpec *spec,
                               const gchar *issuer_cert_pem, const gchar *issuer_key_pem,
                               GError **error);
/* The text of extension @oid of @cert_pem (see KithCertExtension); caller frees; NULL and
 * KITH_CRYPTO_ERROR_BAD_FORMAT when absent. No trust is implied: verify the cert first. */
gchar *kith_crypto_cert_get_extension (const gchar *cert_pem, const gchar *oid, GError **error);
/* The subjectAltName URIs of @cert_pem (possibly empty); caller frees. */
gchar **kith_crypto_cert_get_san_uris (const gchar *cert_pem, GError **error);
/* The subject common name of @cert_pem; caller frees. */
gchar *kith_crypto_cert_get_common_name (const gchar *cert_pem, GError **error);

/* A detached signature of @data by private key @key_pem; caller unrefs. */
GBytes *kith_crypto_sign (const gchar *key_pem, GBytes *data, GError **error);

/* A public key taken from a verified certificate. */
typedef struct _KithPublicKey KithPublicKey;
void kith_public_key_free (KithPublicKey *key);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithPublicKey, kith_public_key_free)
/* Checks @signature over @data with @key: KITH_CRYPTO_ERROR_BAD_SIGNATURE on mismatch. */
gboolean kith_public_key_verify (KithPublicKey *key, GBytes *data, GBytes *signature, GError **error);

/* Verifies that @cert_pem is signed by the CA in @anchor_pem and that both are valid at
 * @now (unix seconds; pass g_get_real_time()/G_USEC_PER_SEC outside tests). Returns the
 * certificate's public key (caller frees) or NULL with UNTRUSTED, EXPIRED or NOT_YET_VALID. */
KithPublicKey *kith_crypto_verify_cert (const gchar *cert_pem, const gchar *anchor_pem, gint64 now,
                                        GError **error);

/* A detached signature document for @data: JSON {"certificate": PEM of @cert_pem,
 * "signature": base64 of the signature by @key_pem}; caller unrefs. */
GBytes *kith_crypto_detached_sign (GBytes *data, const gchar *cert_pem, const gchar *key_pem, GError **error);
/* Checks that @detached (from kith_crypto_detached_sign) signs @data with a certificate that
 * chains to @anchor_pem at @now. Returns the signer's certificate PEM (caller frees) for
 * further checks of its subject or extensions, or NULL with BAD_FORMAT, UNTRUSTED, EXPIRED,
 * NOT_YET_VALID or BAD_SIGNATURE. */
gchar *kith_crypto_detached_verify (GBytes *data, GBytes *detached, const gchar *anchor_pem, gint64 now,
                                    GError **error);

/* @length random bytes as lowercase hex (2 × @length digits), from the system CSPRNG;
 * caller frees. */
gchar *kith_crypto_random_hex (gsize length, GError **error);
/* The lowercase hex SHA-256 of @data; caller frees. */
gchar *kith_crypto_sha256_hex (GBytes *data);

G_END_DECLS
