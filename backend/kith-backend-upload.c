/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-backend-upload.c — POST /enroll and POST /upload */
#include "kith-backend-upload.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "kith-backend-store.h"
#include "kith-body-spool.h"
#include "kith-crypto.h"
#include "kith-file.h"
#include "kith-hex.h"
#include "kith-http-answer.h"
#include "kith-json.h"
#include "kith-receipt.h"

#define KITH_BACKEND_NODE_TASKS "upload,relay,serve"

struct _KithBackendUploads {
  gchar *dir;
  KithBackendUploadOptions options;
  guint64 count;
  guint64 enrolled;
};

KithBackendUploads *
kith_backend_uploads_new (const gchar *dir, const KithBackendUploadOptions *options)
{
  KithBackendUploads *self = g_new0 (KithBackendUploads, 1);

  self->dir = g_strdup (dir);
  self->options = *options;
  if (self->options.cert_validity <= 0)
    self->options.cert_validity = KITH_BACKEND_CERT_VALIDITY;
  return self;
}

void
kith_backend_uploads_free (KithBackendUploads *self)
{
  if (self == NULL)
    return;
  g_free (self->dir);
  g_free (self);
}

guint64
kith_backend_uploads_get_count (KithBackendUploads *self)
{
  return self->count;
}

guint64
kith_backend_uploads_get_enrolled (KithBackendUploads *self)
{
  return self->enrolled;
}

static void
kith_backend_uploads_refuse (SoupServerMessage *msg, guint status, const gchar *reason)
{
  g_message ("refused %s: %s", soup_server_message_get_method (msg), reason);
  kith_http_answer_line (msg, status, reason);
}

/* Compares without stopping at the first difference, so timing does not leak the token. */
static gboolean
kith_backend_uploads_token_equal (const gchar *a, const gchar *b)
{
  gsize len = strlen (a);
  guint diff = 0;

  if (len != strlen (b))
    return FALSE; /* the length of the token is no secret */
  for (gsize i = 0; i < len; i++)
    diff |= (guint) (a[i] ^ b[i]);
  return diff == 0;
}

static gchar *
kith_backend_uploads_read (KithBackendUploads *self, const gchar *name, GError **error)
{
  g_autofree gchar *path = g_build_filename (self->dir, name, NULL);
  gchar *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, error))
    return NULL;
  return contents;
}

void
kith_backend_uploads_handle_enroll (KithBackendUploads *self, SoupServerMessage *msg)
{
  g_autoptr (GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *token = NULL;
  g_autofree gchar *ca_cert = NULL;
  g_autofree gchar *ca_key = NULL;
  g_autofree gchar *ca_key_path = g_build_filename (self->dir, KITH_BACKEND_CA_KEY_FILE, NULL);
  g_autofree gchar *cert = NULL;
  g_autofree gchar *reply = NULL;
  g_autoptr (GUri) alias_uri = NULL;
  JsonObject *obj;
  const gchar *given_token, *public_key, *node_id, *alias;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (g_bytes_get_size (body) > KITH_BACKEND_ENROLL_MAX_SIZE ||
      !json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body), NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    kith_backend_uploads_refuse (msg, SOUP_STATUS_BAD_REQUEST, "enroll: expected a JSON object");
    return;
  }
  obj = json_node_get_object (json_parser_get_root (parser));
  given_token = kith_json_get_string (obj, "token");
  public_key = kith_json_get_string (obj, "public_key");
  node_id = kith_json_get_string (obj, "node_id");
  alias = kith_json_get_string (obj, "alias");
  token = kith_backend_uploads_read (self, KITH_BACKEND_TOKEN_FILE, &error);
  if (token == NULL) {
    kith_backend_uploads_refuse (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, error->message);
    return;
  }
  g_strstrip (token);
  if (given_token == NULL || !kith_backend_uploads_token_equal (token, given_token)) {
    kith_backend_uploads_refuse (msg, SOUP_STATUS_FORBIDDEN, "enroll: wrong enrollment token");
    return;
  }
  if (!kith_hex_is_valid (node_id, 32, 32)) {
    kith_backend_uploads_refuse (msg, SOUP_STATUS_BAD_REQUEST, "enroll: node_id must be 32 lowercase hex digits");
    return;
  }
  if (alias == NULL || (alias_uri = g_uri_parse (alias, G_URI_FLAGS_NONE, NULL)) == NULL ||
      g_strcmp0 (g_uri_get_scheme (alias_uri), "http") != 0 || g_uri_get_host (alias_uri) == NULL ||
      strlen (alias) > 200) {
    kith_backend_uploads_refuse (msg, SOUP_STATUS_BAD_REQUEST, "enroll: alias must be an http URL");
    return;
  }
  if (public_key == NULL) {
    kith_backend_uploads_refuse (msg, SOUP_STATUS_BAD_REQUEST, "enroll: public_key (PEM) missing");
    return;
  }
  if ((ca_cert = kith_backend_uploads_read (self, KITH_BACKEND_CA_FILE, &error)) == NULL ||
      (ca_key = kith_crypto_read_private_key (ca_key_path, &error)) == NULL) {
    kith_backend_uploads_refuse (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, error->message);
    return;
  }
  {
    const gchar *sans[] = { alias, NULL };
    KithCertExtension extensions[] = { { KITH_CRYPTO_OID_NODE_ID, node_id },
                                       { KITH_CRYPTO_OID_TASKS, KITH_BACKEND_NODE_TASKS },
                                       { NULL, NULL } };
    KithCertSpec spec = { .common_name = "kith node",
                          .not_after = now + self->options.cert_validity,
                          .san_uris = sans,
                          .extensions = extensions };
    cert = kith_crypto_cert_issue (public_key, &spec, ca_cert, ca_key, &error);
  }
  if (cert == NULL) {
    g_autofree gchar *reason = g_strdup_printf ("enroll: unusable public key: %s", error->message);
    kith_backend_uploads_refuse (msg, SOUP_STATUS_BAD_REQUEST, reason);
    return;
  }
  self->enrolled++;
  g_message ("enrolled node %s at %s for %" G_GINT64_FORMAT " s", node_id, alias, self->options.cert_validity);
  {
    g_autoptr (JsonBuilder) builder = json_builder_new ();
    json_builder_begin_object (builder);
    kith_json_add_string (builder, "certificate", cert);
    kith_json_add_int (builder, "expires", now + self->options.cert_validity);
    json_builder_end_object (builder);
    reply = kith_json_builder_to_data (builder, FALSE, NULL);
  }
  kith_http_answer_text (msg, SOUP_STATUS_OK, "application/json", reply);
}

/* The receipt text: what the backend vouches it stored, for whom and when. */
static gchar *
kith_backend_uploads_receipt_text (const gchar *upload_id, const gchar *sha256, gsize size, const gchar *requester,
                                   const gchar *blacklist)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *time = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");

  json_builder_begin_object (builder);
  kith_json_add_string (builder, "upload_id", upload_id);
  kith_json_add_string (builder, "sha256", sha256);
  kith_json_add_int (builder, "size", (gint64) size);
  kith_json_add_string (builder, "requester", requester);
  kith_json_add_string (builder, "time", time);
  if (blacklist != NULL) {
    kith_json_add_string (builder, "blacklist", blacklist);
  }
  json_builder_end_object (builder);
  return kith_json_builder_to_data (builder, FALSE, NULL);
}

/* The receipt document (kith-receipt.h), signed with the backend's signing key */
static gchar *
kith_backend_uploads_sign_receipt (KithBackendUploads *self, const gchar *text, GError **error)
{
  g_autofree gchar *cert = kith_backend_uploads_read (self, KITH_BACKEND_SIGNING_FILE, error);
  g_autofree gchar *key_path = g_build_filename (self->dir, KITH_BACKEND_SIGNING_KEY_FILE, NULL);
  g_autofree gchar *key = NULL;

  if (cert == NULL || (key = kith_crypto_read_private_key (key_path, error)) == NULL)
    return NULL;
  return kith_receipt_seal (text, cert, key, error);
}

/* Stores the report and its receipt (report first: a receipt never names a missing report);
 * returns the receipt document. */
static gchar *
kith_backend_uploads_store (KithBackendUploads *self, const gchar *upload_id, GBytes *body, const gchar *requester,
                            const gchar *blacklist, GError **error)
{
  g_autofree gchar *dir = g_build_filename (self->dir, KITH_BACKEND_UPLOADS_DIR, NULL);
  g_autofree gchar *report_path = g_build_filename (dir, upload_id, NULL);
  g_autofree gchar *receipt_path = g_strconcat (report_path, ".receipt", NULL);
  g_autofree gchar *sha256 = kith_crypto_sha256_hex (body);
  g_autofree gchar *text = NULL;
  gchar *document = NULL;

  if (g_file_get_contents (receipt_path, &document, NULL, NULL)) {
    g_debug ("upload %s again: same receipt", upload_id);
    return document;
  }
  if (g_mkdir_with_parents (dir, 0755) != 0) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "cannot create %s: %s", dir,
                 g_strerror (errno));
    return NULL;
  }
  if (!kith_file_write_atomic (report_path, g_bytes_get_data (body, NULL), g_bytes_get_size (body), 0644, error))
    return NULL;
  text = kith_backend_uploads_receipt_text (upload_id, sha256, g_bytes_get_size (body), requester, blacklist);
  document = kith_backend_uploads_sign_receipt (self, text, error);
  if (document == NULL || !kith_file_write_atomic (receipt_path, document, strlen (document), 0644, error)) {
    g_free (document);
    return NULL;
  }
  self->count++;
  g_message ("stored upload %s (%" G_GSIZE_FORMAT " bytes) from %s%s%s", upload_id, g_bytes_get_size (body),
             requester, blacklist != NULL ? ", blacklist " : "", blacklist != NULL ? blacklist : "");
  return document;
}

typedef struct {
  SoupServerMessage *msg; /* a ref */
  guint timeout_id;
  gulong finished_id;
} KithDelayedReceipt;

static void
kith_backend_upload_delayed_receipt_free (KithDelayedReceipt *delayed)
{
  g_clear_handle_id (&delayed->timeout_id, g_source_remove);
  g_signal_handler_disconnect (delayed->msg, delayed->finished_id);
  g_object_unref (delayed->msg);
  g_free (delayed);
}

static gboolean
kith_backend_upload_delayed_receipt_due_cb (gpointer user_data)
{
  KithDelayedReceipt *delayed = user_data;

  delayed->timeout_id = 0;
  soup_server_message_unpause (delayed->msg);
  kith_backend_upload_delayed_receipt_free (delayed);
  return G_SOURCE_REMOVE;
}

/* the client left while its receipt was held back */
static void
kith_backend_upload_delayed_receipt_finished_cb (SoupServerMessage *msg, gpointer user_data)
{
  kith_backend_upload_delayed_receipt_free (user_data);
}

void
kith_backend_uploads_begin_upload (KithBackendUploads *self, SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autofree gchar *dir = g_build_filename (self->dir, KITH_BACKEND_UPLOADS_DIR, NULL);
  g_autoptr (GError) error = NULL;

  if (!kith_hex_is_valid (soup_message_headers_get_one (headers, "X-Kith-Upload-Id"), 32, 64) ||
      !kith_hex_is_valid (soup_message_headers_get_one (headers, "X-Kith-Node"), 32, 32) ||
      soup_message_headers_get_content_length (headers) > KITH_BACKEND_UPLOAD_MAX_SIZE)
    return; /* the handler says why; the HTTP layer drops the body */
  /* DIR/uploads/.partial-*; past the cap the HTTP layer refuses the request, and nothing
   * more is kept */
  if (kith_body_spool_begin (msg, dir, KITH_BACKEND_UPLOAD_MAX_SIZE, NULL, &error) == NULL)
    g_warning ("%s", error->message);
}

void
kith_backend_uploads_handle_upload (KithBackendUploads *self, SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const gchar *upload_id = soup_message_headers_get_one (headers, "X-Kith-Upload-Id");
  const gchar *requester = soup_message_headers_get_one (headers, "X-Kith-Node");
  const gchar *blacklist = soup_message_headers_get_one (headers, "X-Kith-Blacklist");
  KithBodySpool *spool = kith_body_spool_get (msg);
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *document = NULL;

  if (!kith_hex_is_valid (upload_id, 32, 64)) {
    kith_backend_uploads_refuse (msg, SOUP_STATUS_BAD_REQUEST, "upload: X-Kith-Upload-Id must be 32-64 hex digits");
    return;
  }
  if (!kith_hex_is_valid (requester, 32, 32)) {
    kith_backend_uploads_refuse (msg, SOUP_STATUS_BAD_REQUEST, "upload: X-Kith-Node must be a node id");
    return;
  }
  if (spool == NULL) {
    kith_backend_uploads_refuse (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "upload: report too large");
    return;
  }
  if (kith_body_spool_has_failed (spool)) {
    kith_backend_uploads_refuse (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "upload: cannot store the report");
    return;
  }
  /* the mapping keeps the bytes; the store writes them where they belong */
  body = kith_body_spool_take_bytes (spool, &error);
  if (body == NULL) {
    kith_backend_uploads_refuse (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, error->message);
    return;
  }
  if (blacklist != NULL && (strlen (blacklist) > 4096 || !g_utf8_validate (blacklist, -1, NULL)))
    blacklist = NULL;
  document = kith_backend_uploads_store (self, upload_id, body, requester, blacklist, &error);
  if (document == NULL) {
    kith_backend_uploads_refuse (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, error->message);
    return;
  }
  if (self->options.drop_receipts) {
    kith_http_answer_line (msg, SOUP_STATUS_ACCEPTED, "stored; receipt dropped (--drop-receipts)");
    return;
  }
  kith_http_answer_text (msg, SOUP_STATUS_OK, "application/json", document);
  if (self->options.delay_receipts > 0) {
    KithDelayedReceipt *delayed = g_new0 (KithDelayedReceipt, 1);
    delayed->msg = g_object_ref (msg);
    delayed->finished_id = g_signal_connect (msg, "finished",
                                             G_CALLBACK (kith_backend_upload_delayed_receipt_finished_cb),
                                             delayed);
    delayed->timeout_id = g_timeout_add (self->options.delay_receipts,
                                         kith_backend_upload_delayed_receipt_due_cb, delayed);
    soup_server_message_pause (msg);
  }
}
