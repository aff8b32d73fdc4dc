/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload-verify.c — receipt checks and the receipt time */
#include "kith-upload-verify.h"

#include "kith-json.h"
#include "kith-receipt.h"

#include <json-glib/json-glib.h>
#include <string.h>

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
  gint64 size = -1;

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
  if (g_strcmp0 (kith_json_get_string (fields, "upload_id"), expect->upload_id) != 0)
    return kith_upload_fail (reason, "receipt for upload %s, not %s", kith_json_get_string (fields, "upload_id"),
                             expect->upload_id);
  if (g_strcmp0 (kith_json_get_string (fields, "sha256"), expect->sha256) != 0 ||
      !kith_json_get_int (fields, "size", &size) || size < 0 || (guint64) size != expect->size)
    return kith_upload_fail (reason, "receipt for other content");
  if (g_strcmp0 (kith_json_get_string (fields, "requester"), expect->requester) != 0)
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
