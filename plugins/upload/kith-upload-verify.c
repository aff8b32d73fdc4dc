/* kith-upload-verify.c — offer and receipt checks */
#include "kith-upload-verify.h"

#include "kith-receipt.h"

#include <json-glib/json-glib.h>
#include <string.h>

#define KITH_PEM_CERT_BEGIN "-----BEGIN CERTIFICATE-----\n"
#define KITH_PEM_CERT_END "-----END CERTIFICATE-----\n"

gchar *
kith_upload_cert_pem_from_base64 (const gchar *b64)
{
  g_autofree guchar *der = NULL;
  g_autofree gchar *clean = NULL;
  GString *pem;
  gsize len = 0;

  if (b64 == NULL || *b64 == '\0')
    return NULL;
  der = g_base64_decode (b64, &len);
  if (len == 0)
    return NULL;
  clean = g_base64_encode (der, len);
  pem = g_string_new (KITH_PEM_CERT_BEGIN);
  for (gsize i = 0; i < strlen (clean); i += 64) {
    g_string_append_len (pem, clean + i, MIN (64, (gssize) (strlen (clean) - i)));
    g_string_append_c (pem, '\n');
  }
  g_string_append (pem, KITH_PEM_CERT_END);
  return g_string_free (pem, FALSE);
}

gchar *
kith_upload_cert_base64_from_pem (const gchar *pem)
{
  const gchar *begin = strstr (pem, KITH_PEM_CERT_BEGIN);
  const gchar *end = begin != NULL ? strstr (begin, "-----END CERTIFICATE-----") : NULL;
  GString *b64 = g_string_new (NULL);

  if (begin == NULL || end == NULL)
    return g_string_free (b64, TRUE);
  for (const gchar *p = begin + strlen (KITH_PEM_CERT_BEGIN); p < end; p++) {
    if (!g_ascii_isspace (*p))
      g_string_append_c (b64, *p);
  }
  return g_string_free (b64, FALSE);
}

static gboolean
kith_upload_fail (gchar **reason, const gchar *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
kith_upload_fail (gchar **reason, const gchar *format, ...)
{
  va_list args;

  va_start (args, format);
  *reason = g_strdup_vprintf (format, args);
  va_end (args);
  return FALSE;
}

static gboolean
kith_upload_tasks_permit (const gchar *tasks, const gchar *task)
{
  g_auto (GStrv) list = g_strsplit (tasks, ",", -1);
  return g_strv_contains ((const gchar *const *) list, task);
}

/* The SAN URI that @alias lives under and whose host is @source, or a reason why none. */
static gboolean
kith_upload_check_alias (const gchar *pem, const gchar *alias, GSocketAddress *from, gchar **reason)
{
  g_auto (GStrv) sans = kith_crypto_cert_get_san_uris (pem, NULL);
  g_autofree gchar *source = NULL;

  if (from == NULL || !G_IS_INET_SOCKET_ADDRESS (from))
    return kith_upload_fail (reason, "offer without a source address");
  source = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (from)));
  for (guint i = 0; sans != NULL && sans[i] != NULL; i++) {
    g_autoptr (GUri) uri = NULL;
    if (!g_str_has_prefix (alias, sans[i]))
      continue;
    uri = g_uri_parse (sans[i], G_URI_FLAGS_NONE, NULL);
    if (uri == NULL || g_strcmp0 (g_uri_get_host (uri), source) != 0)
      return kith_upload_fail (reason, "alias host %s is not the packet source %s",
                               uri != NULL ? g_uri_get_host (uri) : "?", source);
    return TRUE;
  }
  return kith_upload_fail (reason, "alias %s is not in the certificate", alias);
}

gboolean
kith_upload_verify_offer (const gchar *anchor_pem, guint32 id, const KithTaskOffer *offer, gint64 now,
                          gchar **reason)
{
  g_autofree gchar *pem = kith_upload_cert_pem_from_base64 (offer->cert);
  g_autoptr (KithPublicKey) key = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *tasks = NULL;
  g_autofree gchar *node = NULL;
  g_autofree guchar *sig = NULL;
  g_autoptr (GBytes) sig_bytes = NULL;
  g_autoptr (GBytes) proof = NULL;
  gsize sig_len = 0;

  if (pem == NULL)
    return kith_upload_fail (reason, "no certificate");
  key = kith_crypto_verify_cert (pem, anchor_pem, now, &error);
  if (key == NULL)
    return kith_upload_fail (reason, "certificate refused: %s", error->message);
  tasks = kith_crypto_cert_get_extension (pem, KITH_CRYPTO_OID_TASKS, NULL);
  if (tasks == NULL || !kith_upload_tasks_permit (tasks, "upload"))
    return kith_upload_fail (reason, "certificate does not permit upload");
  node = kith_crypto_cert_get_extension (pem, KITH_CRYPTO_OID_NODE_ID, NULL);
  if (node == NULL || g_strcmp0 (node, offer->node) != 0)
    return kith_upload_fail (reason, "certificate of node %s offered by %s", node != NULL ? node : "?",
                             offer->node);
  if (offer->alias == NULL || !kith_upload_check_alias (pem, offer->alias, offer->from, reason))
    return offer->alias != NULL ? FALSE : kith_upload_fail (reason, "offer without alias");
  if (offer->sig != NULL)
    sig = g_base64_decode (offer->sig, &sig_len);
  if (sig_len == 0)
    return kith_upload_fail (reason, "no proof of possession");
  sig_bytes = g_bytes_new (sig, sig_len);
  proof = kith_task_broker_proof_data (id, offer->alias);
  if (!kith_public_key_verify (key, proof, sig_bytes, &error))
    return kith_upload_fail (reason, "proof of possession does not verify: %s", error->message);
  return TRUE;
}

static const gchar *
kith_upload_json_string (JsonObject *obj, const gchar *name)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, name) : NULL;
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
             ? json_node_get_string (node)
             : NULL;
}

gboolean
kith_upload_verify_receipt (const gchar *anchor_pem, GBytes *document, const KithUploadExpect *expect, gint64 now,
                            gchar **text, gchar **reason)
{
  g_autoptr (JsonParser) inner = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *signer = NULL;
  g_autofree gchar *node_ext = NULL;
  g_autofree gchar *receipt = NULL;
  JsonObject *fields;
  JsonNode *size;

  if (document == NULL || g_bytes_get_size (document) == 0)
    return kith_upload_fail (reason, "no receipt");
  receipt = kith_receipt_open (document, anchor_pem, now, &signer, &error);
  if (receipt == NULL)
    return kith_upload_fail (reason, "%s", error->message);
  /* every node certificate chains to the same CA: only a backend certificate may sign */
  node_ext = kith_crypto_cert_get_extension (signer, KITH_CRYPTO_OID_NODE_ID, NULL);
  if (node_ext != NULL)
    return kith_upload_fail (reason, "receipt signed by node %s, not by the backend", node_ext);
  if (!json_parser_load_from_data (inner, receipt, -1, NULL) || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (inner)))
    return kith_upload_fail (reason, "receipt text is not a JSON object");
  fields = json_node_get_object (json_parser_get_root (inner));
  if (g_strcmp0 (kith_upload_json_string (fields, "upload_id"), expect->upload_id) != 0)
    return kith_upload_fail (reason, "receipt for upload %s, not %s", kith_upload_json_string (fields, "upload_id"),
                             expect->upload_id);
  size = json_object_get_member (fields, "size");
  if (g_strcmp0 (kith_upload_json_string (fields, "sha256"), expect->sha256) != 0 || size == NULL ||
      !JSON_NODE_HOLDS_VALUE (size) || json_node_get_value_type (size) != G_TYPE_INT64 ||
      json_node_get_int (size) < 0 || (guint64) json_node_get_int (size) != expect->size)
    return kith_upload_fail (reason, "receipt for other content");
  if (g_strcmp0 (kith_upload_json_string (fields, "requester"), expect->requester) != 0)
    return kith_upload_fail (reason, "receipt for another requester");
  if (text != NULL)
    *text = g_steal_pointer (&receipt);
  return TRUE;
}

guint64
kith_upload_receipt_time_ms (guint64 size, guint64 speed, guint64 interval_ms, guint64 slack_ms)
{
  guint64 transfer_ms = speed > 0 ? (size * 1000 / speed) : 0;
  return slack_ms + 2 * transfer_ms + interval_ms;
}
