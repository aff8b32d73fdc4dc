/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload-server.c — enroll, answer upload tasks, spool and forward reports */
#include "kith-upload-server.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "kith-body-spool.h"
#include "kith-deadline.h"
#include "kith-file.h"
#include "kith-hex.h"
#include "kith-http-answer.h"
#include "kith-http-request.h"
#include "kith-json.h"
#include "kith-upload-verify.h"

#define KITH_UPLOAD_ALIAS_PATH "/upload/"
#define KITH_UPLOAD_RETRY_S 5
/* the most of the backend's answer that is read (a receipt, a node certificate: a few KiB) */
#define KITH_UPLOAD_SERVER_ANSWER_MAX (1024 * 1024)
/* A forward waits for the backend's answer until the requester's receipt deadline T (its
 * X-Kith-Receipt-Time) and this margin more: past T the requester has given up, keeps the
 * report in its outbox and sends it again, so the answer serves nobody. */
#define KITH_UPLOAD_SERVER_FORWARD_MARGIN_MS 2000
/* T when the requester did not say (an older node, a spool retry): the default
 * receipt-slack and speed's T for a report of the largest size, about 5 min */
#define KITH_UPLOAD_SERVER_FORWARD_DEFAULT_MS (10000 + G_GUINT64_CONSTANT (2) * 16 * 1048576 * 1000 / 125000)
/* the most a requester's T may hold a forward, whatever it says */
#define KITH_UPLOAD_SERVER_FORWARD_MAX_MS (30 * 60 * 1000)

struct _KithUploadServer {
  KithAgent *agent;
  SoupSession *session;
  guint64 max_size;
  guint32 interval;
  gchar *dir;       /* STATE_DIR/upload */
  gchar *spool_dir; /* STATE_DIR/upload/spool */
  gchar *key_pem;
  gchar *cert_b64;  /* NULL until enrolled */
  gchar *alias_base;
  gchar *upload_url;
  gboolean backend_ok;
  guint timer_id;   /* renewal or retry */
  guint64 forwarded;
  guint64 forwards_cut; /* forwards that had no whole answer by their deadline */
  GCancellable *cancellable;
  guint64 enroll_timeout_ms;
  struct _KithEnroll *enroll; /* the enrollment in flight, or NULL */
};

/* An enrollment in flight: its answer is read whole, so a backend (or whoever answers at
 * its address) that trickles it in would hold it, and every renewal after it, for good. */
typedef struct _KithEnroll {
  KithUploadServer *self; /* NULL once the server is freed */
  KithDeadline *deadline;
} KithEnroll;

typedef struct {
  KithUploadServer *self;
  SoupServerMessage *msg; /* a ref, or NULL for a spool retry */
  gulong finished_id;
  gchar *path;            /* the spooled report */
  KithDeadline *deadline; /* T + the margin, or the server's end */
  guint64 timeout_ms;
} KithForward;

static void kith_upload_server_enroll (KithUploadServer *self);

static gboolean
kith_upload_server_timer_cb (gpointer user_data)
{
  KithUploadServer *self = user_data;
  self->timer_id = 0;
  kith_upload_server_enroll (self);
  return G_SOURCE_REMOVE;
}

static void
kith_upload_server_forward_free (KithForward *fwd)
{
  if (fwd->msg != NULL) {
    g_signal_handler_disconnect (fwd->msg, fwd->finished_id);
    g_object_unref (fwd->msg);
  }
  kith_deadline_free (fwd->deadline);
  g_free (fwd->path);
  g_free (fwd);
}

/* The client left while we forwarded: the spool keeps the report, nothing to answer. */
static void
kith_upload_server_forward_finished_cb (SoupServerMessage *msg, gpointer user_data)
{
  KithForward *fwd = user_data;
  g_signal_handler_disconnect (fwd->msg, fwd->finished_id);
  g_clear_object (&fwd->msg);
}

static void
kith_upload_server_schedule (KithUploadServer *self, guint seconds)
{
  g_clear_handle_id (&self->timer_id, g_source_remove);
  self->timer_id = g_timeout_add_seconds (MAX (seconds, 1), kith_upload_server_timer_cb, self);
}

static void
kith_upload_server_set_reachable (KithUploadServer *self, gboolean ok)
{
  if (self->backend_ok && !ok) {
    g_message ("backend unreachable: not offering uploads until it answers again");
    kith_upload_server_schedule (self, KITH_UPLOAD_RETRY_S);
  }
  self->backend_ok = ok;
}

static void
kith_upload_server_forward_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  KithForward *fwd = user_data;
  KithUploadServer *self = fwd->self;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = kith_http_request_send_finish (res, &error);
  SoupMessage *out = SOUP_MESSAGE (source);
  guint status = body != NULL ? soup_message_get_status (out) : SOUP_STATUS_BAD_GATEWAY;

  if (body == NULL && kith_deadline_has_expired (fwd->deadline)) {
    /* the requester gave up at T and keeps its report: the spooled copy would only be
     * sent a second time, and the backend left unjudged (it may be slow, not gone) */
    g_message ("gave up forwarding %s: the backend's answer did not end within %" G_GUINT64_FORMAT
               " ms (the requester's T and a margin); the requester keeps the report",
               fwd->path, fwd->timeout_ms);
    g_unlink (fwd->path);
    self->forwards_cut++;
    kith_metrics_add (kith_agent_get_metrics (self->agent), "kith_upload_forwards_cut_total", NULL, 1);
    if (fwd->msg != NULL) {
      kith_http_answer_line (fwd->msg, SOUP_STATUS_GATEWAY_TIMEOUT, "the backend did not answer in time");
      soup_server_message_unpause (fwd->msg);
    }
    kith_upload_server_forward_free (fwd);
    return;
  }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    kith_upload_server_forward_free (fwd);
    return;
  }
  kith_upload_server_set_reachable (self, body != NULL);
  if (body != NULL && (SOUP_STATUS_IS_SUCCESSFUL (status) || SOUP_STATUS_IS_CLIENT_ERROR (status))) {
    g_unlink (fwd->path);
    if (status == SOUP_STATUS_OK)
      self->forwarded++;
  }
  g_debug ("forwarded %s: %u", fwd->path, status);
  if (fwd->msg != NULL) {
    soup_server_message_set_status (fwd->msg, status, NULL);
    if (body != NULL)
      soup_server_message_set_response (fwd->msg, soup_message_headers_get_content_type (
                                                      soup_message_get_response_headers (out), NULL),
                                        SOUP_MEMORY_COPY, g_bytes_get_data (body, NULL), g_bytes_get_size (body));
    soup_server_message_unpause (fwd->msg);
  }
  kith_upload_server_forward_free (fwd);
}

/* The requester's T from @text (its X-Kith-Receipt-Time, ms), bounded; NULL or not a
 * number: the default. */
static guint64
kith_upload_server_receipt_time (const gchar *text)
{
  guint64 t_ms = 0;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT64, &t_ms, NULL))
    return KITH_UPLOAD_SERVER_FORWARD_DEFAULT_MS;
  return MIN (t_ms, KITH_UPLOAD_SERVER_FORWARD_MAX_MS);
}

/* Spool file names: UPLOADID.REQUESTER.RANDOM — everything a retry needs. */
static void
kith_upload_server_forward (KithUploadServer *self, const gchar *path, GBytes *report, SoupServerMessage *msg,
                            const gchar *blacklist, const gchar *receipt_time)
{
  g_autofree gchar *name = g_path_get_basename (path);
  g_auto (GStrv) parts = g_strsplit (name, ".", 3);
  g_autoptr (SoupMessage) out = NULL;
  KithForward *fwd;

  if (g_strv_length (parts) != 3)
    return;
  out = soup_message_new (SOUP_METHOD_POST, self->upload_url);
  soup_message_headers_replace (soup_message_get_request_headers (out), "X-Kith-Upload-Id", parts[0]);
  soup_message_headers_replace (soup_message_get_request_headers (out), "X-Kith-Node", parts[1]);
  if (blacklist != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (out), "X-Kith-Blacklist", blacklist);
  soup_message_set_request_body_from_bytes (out, "application/octet-stream", report);
  fwd = g_new0 (KithForward, 1);
  fwd->self = self;
  fwd->path = g_strdup (path);
  fwd->timeout_ms = kith_upload_server_receipt_time (receipt_time) + KITH_UPLOAD_SERVER_FORWARD_MARGIN_MS;
  fwd->deadline = kith_deadline_new (self->cancellable, (guint) fwd->timeout_ms);
  if (msg != NULL) {
    fwd->msg = g_object_ref (msg);
    fwd->finished_id = g_signal_connect (msg, "finished", G_CALLBACK (kith_upload_server_forward_finished_cb),
                                         fwd);
    soup_server_message_pause (msg);
  }
  kith_http_request_send_async (self->session, out, KITH_UPLOAD_SERVER_ANSWER_MAX,
                                kith_deadline_get_cancellable (fwd->deadline), kith_upload_server_forward_cb,
                                fwd);
}

/* Reports whose forwarding failed earlier (or before a restart) go out again. */
static void
kith_upload_server_retry_spool (KithUploadServer *self)
{
  g_autoptr (GDir) dir = g_dir_open (self->spool_dir, 0, NULL);
  const gchar *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
    g_autofree gchar *path = g_build_filename (self->spool_dir, name, NULL);
    g_autoptr (GMappedFile) mapped = NULL;
    g_autoptr (GBytes) report = NULL;
    if (name[0] == '.' || (mapped = g_mapped_file_new (path, FALSE, NULL)) == NULL)
      continue;
    report = g_mapped_file_get_bytes (mapped);
    kith_upload_server_forward (self, path, report, NULL, NULL, NULL);
  }
}

static void
kith_upload_server_refuse (SoupServerMessage *msg, guint status, const gchar *reason)
{
  g_debug ("refused an upload: %s", reason);
  kith_http_answer_line (msg, status, reason);
}

/* The head is in: everything that can be refused is refused before a byte of the body is
 * read (kith-http drops the body of a refused request), then the body goes to the spool. */
static void
kith_upload_server_early (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                          gpointer user_data)
{
  KithUploadServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const gchar *upload_id = soup_message_headers_get_one (headers, "X-Kith-Upload-Id");
  const gchar *node = soup_message_headers_get_one (headers, "X-Kith-Node");
  KithHttp *http = kith_agent_get_http (self->agent);
  g_autoptr (GError) error = NULL;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_POST) {
    kith_upload_server_refuse (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "POST a report here");
    return;
  }
  if (!kith_http_is_lan (soup_server_message_get_remote_address (msg))) {
    kith_upload_server_refuse (msg, SOUP_STATUS_FORBIDDEN, "uploads are taken from the LAN only");
    return;
  }
  if (self->cert_b64 == NULL || !self->backend_ok) {
    kith_upload_server_refuse (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "not serving uploads now");
    return;
  }
  if (soup_message_headers_get_content_length (headers) > (goffset) self->max_size) {
    kith_upload_server_refuse (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "report too large");
    return;
  }
  if (!kith_hex_is_valid (upload_id, 32, 64) || !kith_hex_is_valid (node, 32, 32)) {
    kith_upload_server_refuse (msg, SOUP_STATUS_BAD_REQUEST, "X-Kith-Upload-Id and X-Kith-Node are required");
    return;
  }
  /* SPOOL/.partial-* until the report is whole; a longer one is refused on its way */
  if (kith_body_spool_begin (msg, self->spool_dir, self->max_size, http, &error) == NULL) {
    g_warning ("cannot spool a report: %s", error->message);
    kith_upload_server_refuse (msg, SOUP_STATUS_INSUFFICIENT_STORAGE, "cannot spool the report");
  }
}

static void
kith_upload_server_handle (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                           gpointer user_data)
{
  KithUploadServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  KithBodySpool *spool = kith_body_spool_get (msg);
  g_autoptr (GMappedFile) mapped = NULL;
  g_autoptr (GBytes) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *random = NULL;
  g_autofree gchar *name = NULL;
  g_autofree gchar *spooled = NULL;

  if (spool == NULL || kith_body_spool_has_failed (spool)) {
    /* the early handler answered, or the body was refused on its way */
    if (soup_server_message_get_status (msg) == 0)
      kith_upload_server_refuse (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "no report");
    return;
  }
  random = kith_crypto_random_hex (8, NULL);
  name = g_strdup_printf ("%s.%s.%s", soup_message_headers_get_one (headers, "X-Kith-Upload-Id"),
                          soup_message_headers_get_one (headers, "X-Kith-Node"), random != NULL ? random : "0");
  spooled = g_build_filename (self->spool_dir, name, NULL);
  if (!kith_body_spool_keep (spool, spooled, &error)) {
    g_warning ("cannot spool a report: %s", error->message);
    kith_upload_server_refuse (msg, SOUP_STATUS_INSUFFICIENT_STORAGE, "cannot spool the report");
    return;
  }
  mapped = g_mapped_file_new (spooled, FALSE, &error);
  if (mapped == NULL) {
    g_warning ("cannot read the spooled report: %s", error->message);
    kith_upload_server_refuse (msg, SOUP_STATUS_INSUFFICIENT_STORAGE, "cannot spool the report");
    return;
  }
  report = g_mapped_file_get_bytes (mapped);
  kith_upload_server_forward (self, spooled, report, msg,
                              soup_message_headers_get_one (headers, "X-Kith-Blacklist"),
                              soup_message_headers_get_one (headers, "X-Kith-Receipt-Time"));
}

static gboolean
kith_upload_server_respond (const KithTaskAsk *ask, KithTaskOffer *offer, gpointer user_data)
{
  KithUploadServer *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *alias = NULL;
  g_autofree gchar *sig = NULL;

  if (self->cert_b64 == NULL || !self->backend_ok || g_strcmp0 (ask->href, self->upload_url) != 0 ||
      g_strcmp0 (ask->node, kith_agent_get_node_id (self->agent)) == 0)
    return FALSE;
  alias = g_strdup_printf ("%s%08x", self->alias_base, ask->id);
  sig = kith_peer_proof_sign (self->key_pem, ask->id, alias, &error);
  if (sig == NULL) {
    g_warning ("cannot sign an upload offer: %s", error->message);
    return FALSE;
  }
  offer->alias = g_steal_pointer (&alias);
  offer->cert = g_strdup (self->cert_b64);
  offer->sig = g_steal_pointer (&sig);
  offer->interval = self->interval;
  g_debug ("offering upload to %s for request %u", ask->node, ask->id);
  return TRUE;
}

static void
kith_upload_server_enroll_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = kith_http_request_send_finish (res, &error);
  SoupMessage *msg = SOUP_MESSAGE (source);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree gchar *path = NULL;
  JsonObject *obj = NULL;
  const gchar *cert;
  gint64 expires, now = g_get_real_time () / G_USEC_PER_SEC;
  KithEnroll *enroll = user_data;
  KithUploadServer *self = enroll->self;
  gboolean expired = kith_deadline_has_expired (enroll->deadline);

  kith_deadline_free (enroll->deadline);
  g_free (enroll);
  if (self == NULL)
    return;
  self->enroll = NULL;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && !expired)
    return;
  if (expired && body == NULL) {
    g_clear_error (&error);
    error = g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no whole answer within enroll-timeout (%" G_GUINT64_FORMAT
                         " ms)", self->enroll_timeout_ms);
  }
  if (body == NULL) {
    g_debug ("cannot enroll: %s", error->message);
    kith_upload_server_set_reachable (self, FALSE);
    kith_upload_server_schedule (self, KITH_UPLOAD_RETRY_S);
    return;
  }
  if (soup_message_get_status (msg) == SOUP_STATUS_OK &&
      json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body), NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    obj = json_node_get_object (json_parser_get_root (parser));
  cert = obj != NULL ? json_object_get_string_member_with_default (obj, "certificate", NULL) : NULL;
  if (cert == NULL) {
    g_warning ("enrollment refused (%u): %.*s", soup_message_get_status (msg), (int) MIN (200, g_bytes_get_size (body)),
               (const gchar *) g_bytes_get_data (body, NULL));
    kith_upload_server_schedule (self, 60);
    return;
  }
  path = g_build_filename (self->dir, "node-cert.pem", NULL);
  if (!kith_file_write_atomic (path, cert, strlen (cert), 0644, &error))
    g_warning ("cannot keep the node certificate: %s", error->message);
  g_free (self->cert_b64);
  self->cert_b64 = kith_peer_cert_base64_from_pem (cert);
  self->backend_ok = TRUE;
  expires = json_object_get_int_member_with_default (obj, "expires", now + 3600);
  g_message ("enrolled: node certificate valid for %" G_GINT64_FORMAT " s", expires - now);
  /* renew at two thirds of the certificate's life */
  kith_upload_server_schedule (self, (guint) MAX (1, (expires - now) * 2 / 3));
  kith_upload_server_retry_spool (self);
}

static void
kith_upload_server_enroll (KithUploadServer *self)
{
  const gchar *backend = kith_agent_get_backend_url (self->agent);
  g_autofree gchar *url = g_strconcat (backend, "/enroll", NULL);
  g_autofree gchar *public_key = kith_crypto_key_get_public (self->key_pem, NULL);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_POST, url);
  g_autofree gchar *text = NULL;
  g_autoptr (GBytes) body = NULL;
  gsize len = 0;

  /* one at a time: the one in flight ends by its deadline, and schedules the next */
  if (self->enroll != NULL || msg == NULL || public_key == NULL)
    return;
  json_builder_begin_object (builder);
  kith_json_add_string (builder, "token", kith_agent_get_enrollment_token (self->agent));
  kith_json_add_string (builder, "public_key", public_key);
  kith_json_add_string (builder, "node_id", kith_agent_get_node_id (self->agent));
  kith_json_add_string (builder, "alias", self->alias_base);
  json_builder_end_object (builder);
  text = kith_json_builder_to_data (builder, FALSE, &len);
  body = g_bytes_new_take (g_steal_pointer (&text), len);
  soup_message_set_request_body_from_bytes (msg, "application/json", body);
  self->enroll = g_new0 (KithEnroll, 1);
  self->enroll->self = self;
  self->enroll->deadline = kith_deadline_new (self->cancellable, (guint) MIN (self->enroll_timeout_ms, G_MAXUINT));
  kith_http_request_send_async (self->session, msg, KITH_UPLOAD_SERVER_ANSWER_MAX,
                                kith_deadline_get_cancellable (self->enroll->deadline), kith_upload_server_enroll_cb,
                                self->enroll);
}

KithUploadServer *
kith_upload_server_new (KithAgent *agent, SoupSession *session, guint64 max_size, guint32 interval,
                        guint64 enroll_timeout_ms)
{
  KithUploadServer *self = g_new0 (KithUploadServer, 1);

  self->enroll_timeout_ms = enroll_timeout_ms;
  self->agent = agent;
  self->session = session;
  self->max_size = max_size;
  self->interval = interval;
  self->cancellable = g_cancellable_new ();
  self->dir = g_build_filename (kith_agent_get_state_dir (agent), "upload", NULL);
  self->spool_dir = g_build_filename (self->dir, "spool", NULL);
  return self;
}

gboolean
kith_upload_server_start (KithUploadServer *self, GError **error)
{
  g_autofree gchar *key_path = g_build_filename (self->dir, "node-key.pem", NULL);
  KithHttp *http = kith_agent_get_http (self->agent);
  KithTaskBroker *broker = KITH_TASK_BROKER (kith_agent_get_service (self->agent, "peering"));

  if (g_mkdir_with_parents (self->spool_dir, 0700) != 0) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "cannot create %s: %s", self->spool_dir,
                 g_strerror (errno));
    return FALSE;
  }
  if (g_file_test (key_path, G_FILE_TEST_EXISTS))
    self->key_pem = kith_crypto_read_private_key (key_path, error);
  else if ((self->key_pem = kith_crypto_key_generate (error)) != NULL &&
           !kith_file_write_atomic (key_path, self->key_pem, strlen (self->key_pem), 0600, error))
    g_clear_pointer (&self->key_pem, g_free);
  if (self->key_pem == NULL)
    return FALSE;
  self->upload_url = g_strconcat (kith_agent_get_backend_url (self->agent), "/upload", NULL);
  self->alias_base = g_strconcat (kith_http_get_base_url (http), KITH_UPLOAD_ALIAS_PATH, NULL);
  kith_http_add_handler (http, KITH_UPLOAD_ALIAS_PATH, kith_upload_server_handle, self, NULL);
  soup_server_add_early_handler (kith_http_get_server (http), KITH_UPLOAD_ALIAS_PATH, kith_upload_server_early, self,
                                 NULL);
  kith_http_set_body_limit (http, KITH_UPLOAD_ALIAS_PATH, self->max_size);
  kith_task_broker_add_responder (broker, "upload", kith_upload_server_respond, self);
  kith_upload_server_enroll (self);
  return TRUE;
}

void
kith_upload_server_free (KithUploadServer *self)
{
  if (self == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->timer_id, g_source_remove);
  if (self->enroll != NULL)
    self->enroll->self = NULL; /* its callback, still to come, frees it */
  if (self->upload_url != NULL) {
    GObject *peering = kith_agent_get_service (self->agent, "peering");
    if (peering != NULL)
      kith_task_broker_remove_responder (KITH_TASK_BROKER (peering), "upload");
    kith_http_remove_handler (kith_agent_get_http (self->agent), KITH_UPLOAD_ALIAS_PATH);
  }
  g_object_unref (self->cancellable);
  g_free (self->key_pem);
  g_free (self->cert_b64);
  g_free (self->alias_base);
  g_free (self->upload_url);
  g_free (self->dir);
  g_free (self->spool_dir);
  g_free (self);
}

gboolean
kith_upload_server_prove (KithUploadServer *self, const gchar *role, guint32 id, const gchar *alias, gchar **cert,
                          gchar **sig)
{
  g_autofree gchar *pem = NULL;
  g_autofree gchar *roles = NULL;
  g_auto (GStrv) list = NULL;
  g_autoptr (GError) error = NULL;

  if (self->cert_b64 == NULL || self->key_pem == NULL)
    return FALSE;
  pem = kith_peer_cert_pem_from_base64 (self->cert_b64);
  roles = pem != NULL ? kith_crypto_cert_get_extension (pem, KITH_CRYPTO_OID_TASKS, NULL) : NULL;
  list = g_strsplit (roles != NULL ? roles : "", ",", -1);
  if (!g_strv_contains ((const gchar *const *) list, role))
    return FALSE;
  *sig = kith_peer_proof_sign (self->key_pem, id, alias, &error);
  if (*sig == NULL) {
    g_warning ("cannot sign a proof of possession: %s", error->message);
    return FALSE;
  }
  *cert = g_strdup (self->cert_b64);
  return TRUE;
}

gboolean
kith_upload_server_is_serving (KithUploadServer *self)
{
  return self->cert_b64 != NULL && self->backend_ok;
}

guint64
kith_upload_server_get_forwarded (KithUploadServer *self)
{
  return self->forwarded;
}

guint64
kith_upload_server_get_forwards_cut (KithUploadServer *self)
{
  return self->forwards_cut;
}
