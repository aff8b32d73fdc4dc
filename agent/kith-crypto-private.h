/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-crypto-private.h — the GnuTLS side of kith-crypto.c that kith-crypto-cert.c builds
 * on: status checks, datums, key loading. Inside libkith-agent only; not installed. */
#pragma once

#include "kith-crypto.h"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

G_BEGIN_DECLS

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_x509_privkey_t, gnutls_x509_privkey_deinit, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_privkey_t, gnutls_privkey_deinit, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_pubkey_t, gnutls_pubkey_deinit, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_x509_crt_t, gnutls_x509_crt_deinit, NULL)

/* A gnutls_datum_t whose data (not the struct) g_auto() frees at scope exit. */
typedef gnutls_datum_t KithDatum;
void kith_crypto_datum_clear (KithDatum *d);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (KithDatum, kith_crypto_datum_clear)

/* TRUE if GnuTLS status @rc is a success; else sets @error to @code, "@what: reason". */
gboolean kith_crypto_check (int rc, KithCryptoError code, const gchar *what, GError **error);
/* A datum borrowing @s (without its NUL). */
gnutls_datum_t kith_crypto_datum_from_string (const gchar *s);
/* @d's data as a string (caller frees); @d is cleared. */
gchar *kith_crypto_datum_steal_string (KithDatum *d);

/* The private key of PEM @key_pem (BAD_KEY if unreadable); caller deinits. */
gnutls_privkey_t kith_crypto_privkey_load (const gchar *key_pem, GError **error);
/* The public key of SubjectPublicKeyInfo PEM @pubkey_pem (BAD_KEY if unreadable); caller deinits. */
gnutls_pubkey_t kith_crypto_pubkey_load (const gchar *pubkey_pem, GError **error);
/* The public half of @key; caller deinits. */
gnutls_pubkey_t kith_crypto_pubkey_from_privkey (gnutls_privkey_t key, GError **error);

/* A KithPublicKey that takes ownership of @pubkey; caller frees. */
KithPublicKey *kith_public_key_new (gnutls_pubkey_t pubkey);

G_END_DECLS
