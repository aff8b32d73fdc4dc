/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-crypto-detached.c — detached signature documents: a signature and the certificate
 * that vouches for its key, in one JSON object */
#include "kith-crypto-detached.h"
#include "kith-crypto.h"

#include "kith-json.h"

#include <json-glib/json-glib.h>


GBytes *
kith_crypto_detached_sign (GBytes *data, const gchar *cert_pem, const gchar *key_pem, GError **error)
{
  g_autoptr (GBytes) sig = kith_crypto_sign (key_pem, data, error);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree gchar *b64 = NULL;
  gchar *text;
  gsize length = 0;

  if (sig == NULL)
    return NULL;
  b64 = g_base64_encode (g_bytes_get_data (sig, NULL), g_bytes_get_size (sig));
  json_builder_begin_object (builder);
  kith_json_add_string (builder, "certificate", cert_pem);
  kith_json_add_string (builder, "signature", b64);
  json_builder_end_object (builder);
  text = kith_json_builder_to_data (builder, TRUE, &length);
  return g_bytes_new_take (text, length);
}

gchar *
kith_crypto_detached_verify (GBytes *data, GBytes *detached, const gchar *anchor_pem, gint64 now,
                             GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (KithPublicKey) key = NULL;
  g_autoptr (GBytes) sig = NULL;
  g_autoptr (GError) json_error = NULL;
  JsonNode *root;
  const gchar *cert_pem;
  const gchar *b64;
  guchar *raw;
  gsize raw_len = 0;

  if (!json_parser_load_from_data (parser, g_bytes_get_data (detached, NULL),
                                   (gssize) g_bytes_get_size (detached), &json_error)) {
    g_set_error (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_BAD_FORMAT, "signature is not JSON: %s",
                 json_error->message);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      (cert_pem = kith_json_get_string (json_node_get_object (root), "certificate")) == NULL ||
      (b64 = kith_json_get_string (json_node_get_object (root), "signature")) == NULL) {
    g_set_error_literal (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_BAD_FORMAT,
                         "signature must be a JSON object with string members certificate and signature");
    return NULL;
  }
  raw = g_base64_decode (b64, &raw_len);
  sig = g_bytes_new_take (raw, raw_len);
  if (raw_len == 0) {
    g_set_error_literal (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_BAD_FORMAT, "signature is not base64");
    return NULL;
  }
  key = kith_crypto_verify_cert (cert_pem, anchor_pem, now, error);
  if (key == NULL)
    return NULL;
  if (!kith_public_key_verify (key, data, sig, error))
    return NULL;
  return g_strdup (cert_pem);
}
