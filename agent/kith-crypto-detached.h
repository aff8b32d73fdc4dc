/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-crypto-detached.h — detached signature documents: data signed by a key whose
 * certificate travels with the signature; failures are KITH_CRYPTO_ERROR (kith-crypto.h). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A detached signature document for @data: JSON {"certificate": PEM of @cert_pem,
 * "signature": base64 of the signature by @key_pem}; caller unrefs. */
GBytes *kith_crypto_detached_sign (GBytes *data, const gchar *cert_pem, const gchar *key_pem, GError **error);
/* Checks that @detached (from kith_crypto_detached_sign) signs @data with a certificate that
 * chains to @anchor_pem at @now. Returns the signer's certificate PEM (caller frees) for
 * further checks of its subject or extensions, or NULL with BAD_FORMAT, UNTRUSTED, EXPIRED,
 * NOT_YET_VALID or BAD_SIGNATURE. */
gchar *kith_crypto_detached_verify (GBytes *data, GBytes *detached, const gchar *anchor_pem, gint64 now,
                                    GError **error);

G_END_DECLS
