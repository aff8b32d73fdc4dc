/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-receipt.h — the signed receipt document the backend returns for an upload:
 * {"receipt": TEXT, "signature": DETACHED-SIGNATURE} (docs/backend.md) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Signs @text with @key_pem, presenting @cert_pem, into a receipt document; caller frees. */
gchar *kith_receipt_seal (const gchar *text, const gchar *cert_pem, const gchar *key_pem,
                          GError **error);
/* Checks that @document is a receipt document whose signature chains to @anchor_pem at
 * @now. Returns the receipt text (caller frees) and sets @signer_pem to the signer's
 * certificate (caller frees) for further checks; NULL with KITH_CRYPTO_ERROR_BAD_FORMAT
 * ("receipt is not a receipt document") or the signature's error ("receipt signature
 * refused: …"). */
gchar *kith_receipt_open (GBytes *document, const gchar *anchor_pem, gint64 now,
                          gchar **signer_pem, GError **error);

G_END_DECLS
