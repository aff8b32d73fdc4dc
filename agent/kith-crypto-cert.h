/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-crypto-cert.h — X.509 certificates (GnuTLS underneath): made for a key, issued by a
 * CA, read, and verified against a trust anchor. Certificates cross this API as PEM text;
 * failures are KITH_CRYPTO_ERROR (kith-crypto.h). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What kith_crypto_verify_cert() returns: kith-crypto.h (which includes this header) frees
 * it and checks signatures with it. */
typedef struct _KithPublicKey KithPublicKey;

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

/* Verifies that @cert_pem is signed by the CA in @anchor_pem and that both are valid at
 * @now (unix seconds; pass g_get_real_time()/G_USEC_PER_SEC outside tests). Returns the
 * certificate's public key (caller frees) or NULL with UNTRUSTED, EXPIRED or NOT_YET_VALID. */
KithPublicKey *kith_crypto_verify_cert (const gchar *cert_pem, const gchar *anchor_pem, gint64 now,
                                        GError **error);

G_END_DECLS
