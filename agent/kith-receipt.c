/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-receipt.c — the signed receipt document the backend returns for an upload */
#include "kith-receipt.h"

#include "kith-crypto.h"
#include "kith-json.h"

#include <json-glib/json-glib.h>
#include <string.h>

gchar *
kith_receipt_seal (const gchar *text, const gchar *cert_pem, const gchar *key_pem, GError **error)
{
  g_autoptr (GBytes) data = g_bytes_new (text, strlen (text));
  g_autoptr (GBytes) detached = kith_crypto_detached_sign (data, cert_pem, key_pem, error);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  if (detached == NULL ||
      !json_parser_load_from_data (parser, g_bytes_get_data (detached, NULL),
                                   (gssize) g_bytes_get_size (detached), error))
    return NULL;
  json_builder_begin_object (builder);
  kith_json_add_string (builder, "receipt", text);
  json_builder_set_member_name (builder, "signature");
  json_builder_add_value (builder, json_node_copy (json_parser_get_root (parser)));
  json_builder_end_object (builder);
  return kith_json_builder_to_data (builder, FALSE, NULL);
}

gchar *
kith_receipt_open (GBytes *document, const gchar *anchor_pem, gint64 now, gchar **signer_pem,
                   GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (GBytes) data = NULL;
  g_autoptr (GBytes) detached = NULL;
  g_autofree gchar *detached_text = NULL;
  g_autofree gchar *signer = NULL;
  JsonObject *obj = NULL;
  const gchar *text = NULL;
  JsonNode *signature = NULL;
  gsize detached_len = 0;

  if (json_parser_load_from_data (parser, g_bytes_get_data (document, NULL),
                                  (gssize) g_bytes_get_size (document), NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    obj = json_node_get_object (json_parser_get_root (parser));
  if (obj != NULL) {
    text = kith_json_get_string (obj, "receipt");
    signature = json_object_get_member (obj, "signature");
  }
  if (text == NULL || signature == NULL) {
    g_set_error_literal (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_BAD_FORMAT,
                         "receipt is not a receipt document");
    return NULL;
  }
  json_generator_set_root (gen, signature);
  detached_text = json_generator_to_data (gen, &detached_len);
  detached = g_bytes_new_take (g_steal_pointer (&detached_text), detached_len);
  data = g_bytes_new (text, strlen (text));
  signer = kith_crypto_detached_verify (data, detached, anchor_pem, now, error);
  if (signer == NULL) {
    g_prefix_error (error, "receipt signature refused: ");
    return NULL;
  }
  if (signer_pem != NULL)
    *signer_pem = g_steal_pointer (&signer);
  return g_strdup (text);
}
