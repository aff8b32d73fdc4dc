/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload.c — the requesting side: direct upload, task requests, offer and receipt
 * checks, blacklist, back-off (the reports themselves are kith-upload-outbox's) */
#include "kith-upload.h"
#include "kith-backend-trust.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#ifdef G_OS_UNIX
#include <unistd.h>
#endif

#include "kith-file.h"
#include "kith-upload-backoff.h"
#include "kith-upload-error.h"
#include "kith-upload-outbox.h"
#include "kith-peer-identity.h"
#include "kith-upload-reader.h"
#include "kith-upload-server.h"
#include "kith-upload-verify.h"

/* Upload(fd) calls being read at once */
#define KITH_UPLOAD_MAX_READS 8
/* responders remembered in back-off at once */
#define KITH_UPLOAD_BACKOFF_NODES 256

/* One attempt at one report: direct, or through the peer that offered. */
typedef struct {
  KithOutboxReport *report; /* borrowed from the outbox */
  GBytes *content;
  gchar *upload_id;
  gchar *sha256;
  guint32 request_id;  /* 0: no task request open */
  gchar *responder;    /* NULL: direct to the backend */
  guint timer_id;      /* offer wait or receipt time T */
  gchar *timeout_reason;
  GCancellable *cancellable;
  SoupMessage *msg;    /* the POST in flight, or NULL */
  gboolean handed_over; /* the whole report was written to the responder */
  gint64 started;      /* monotonic µs the POST began */
  gchar *direct_error; /* why the backend could not be reached, when peers were asked instead */
} KithAttempt;

struct _KithUpload {
  GObject parent_instance;
  KithAgent *agent;
  KithTaskBroker *broker;
  SoupSession *session;
  KithUploadServer *server;
  KithUploadBlacklist *blacklist;
  KithUploadBackoff *backoff;
  gchar *anchor_pem;
  gchar *outbox_dir;
  KithUploadOutbox *outbox;
  gchar *receipts;
  gchar *upload_url;
  gboolean direct;
  guint64 max_size, offer_wait, retry, retry_max, slack, speed, blacklist_time, scan;
  guint64 peer_backoff, peer_backoff_max, read_timeout;
  guint reads; /* Upload(fd) calls being read */
  GCancellable *reads_cancellable;
  KithAttempt *attempt;
  guint scan_id;
  guint64 delivered;
};

static void kith_upload_identity_init (KithPeerIdentityInterface *iface);

/* the enrolled node's identity, for peering to vouch for its copies */
G_DEFINE_TYPE_WITH_CODE (KithUpload, kith_upload, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (KITH_TYPE_PEER_IDENTITY, kith_upload_identity_init))

static gboolean
kith_upload_prove (KithPeerIdentity *identity, const gchar *role, guint32 id, const gchar *alias, gchar **cert,
                   gchar **sig)
{
  KithUpload *self = KITH_UPLOAD (identity);
  return self->server != NULL && kith_upload_server_prove (self->server, role, id, alias, cert, sig);
}

static void
kith_upload_identity_init (KithPeerIdentityInterface *iface)
{
  iface->prove = kith_upload_prove;
}

enum { SIGNAL_DELIVERED, SIGNAL_BLACKLISTED, SIGNAL_CHANGED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST];

static void kith_upload_next (KithUpload *self);

static void
kith_upload_count (KithUpload *self, const gchar *name, const gchar *labels)
{
  kith_metrics_add (kith_agent_get_metrics (self->agent), name, labels, 1);
}
static void kith_upload_ask_peers (KithUpload *self);

static void
kith_upload_attempt_free (KithAttempt *attempt)
{
  g_clear_handle_id (&attempt->timer_id, g_source_remove);
  g_cancellable_cancel (attempt->cancellable);
  g_object_unref (attempt->cancellable);
  if (attempt->msg != NULL) {
    g_signal_handlers_disconnect_matched (attempt->msg, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, attempt);
    g_object_unref (attempt->msg);
  }
  g_bytes_unref (attempt->content);
  g_free (attempt->upload_id);
  g_free (attempt->sha256);
  g_free (attempt->responder);
  g_free (attempt->timeout_reason);
  g_free (attempt->direct_error);
  g_free (attempt);
}

static gint64
kith_upload_now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static void
kith_upload_end_request (KithUpload *self)
{
  if (self->attempt->request_id != 0)
    kith_task_broker_end (self->broker, self->attempt->request_id);
  self->attempt->request_id = 0;
}

/* Ends the current attempt: a delivered report leaves the pending list, a failed one backs
 * off (doubling, capped). */
static void
kith_upload_finish (KithUpload *self, gboolean ok, const gchar *why)
{
  KithAttempt *attempt = self->attempt;
  KithOutboxReport *report = attempt->report;

  kith_upload_end_request (self);
  self->attempt = NULL;
  report->sending = FALSE;
  if (!ok) {
    guint64 delay = MIN (self->retry << MIN (report->attempts, 16u), self->retry_max);
    report->attempts++;
    report->next_try = g_get_monotonic_time () + (gint64) delay * 1000;
    if (attempt->direct_error != NULL) {
      g_autofree gchar *both = g_strdup_printf ("backend unreachable (%s); %s", attempt->direct_error, why);
      kith_upload_outbox_report_set_error (report, both);
    } else {
      kith_upload_outbox_report_set_error (report, why);
    }
    kith_upload_count (self, "kith_upload_failed_attempts_total", NULL);
    g_message ("report %s not delivered (%s); next try in %" G_GUINT64_FORMAT " ms", report->name, why, delay);
  }
  kith_upload_attempt_free (attempt);
  if (ok)
    kith_upload_outbox_remove (self->outbox, report->name);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  kith_upload_next (self);
}

/* @address: NULL once the node proved who it is (its offer passed every check), else the
 * offer's "IP:PORT" — an unproven offer may carry another node's id. */
static void
kith_upload_blacklist_node (KithUpload *self, const gchar *node, const gchar *address, const gchar *reason)
{
  g_autoptr (GError) error = NULL;

  if (!kith_upload_blacklist_add (self->blacklist, node, address, reason, kith_upload_now (), &error))
    g_warning ("cannot save the blacklist: %s", error->message);
  kith_upload_count (self, "kith_upload_blacklisted_total", address != NULL ? "proven=\"false\"" : "proven=\"true\"");
  g_signal_emit (self, signals[SIGNAL_BLACKLISTED], 0, node, reason);
}

/* A fault, not misbehaviour (the connection failed or broke, the POST timed out before the
 * report was taken, an HTTP error): the responder's offers are ignored for a short, growing
 * back-off instead of the blacklist's hours. */
static void
kith_upload_fault (KithUpload *self, const gchar *node, const gchar *why)
{
  guint64 delay = kith_upload_backoff_fault (self->backoff, node, g_get_monotonic_time ());

  g_message ("responder %s failed (%s): its offers are ignored for %" G_GUINT64_FORMAT " ms", node, why, delay);
  kith_upload_count (self, "kith_upload_responder_faults_total", NULL);
}

/* Receipt written first, report removed second: a crash between them only re-sends a
 * report the backend already has, and its dedup hands back the same receipt. */
static void
kith_upload_delivered (KithUpload *self, const gchar *document, gsize len, const gchar *text)
{
  KithAttempt *attempt = self->attempt;
  g_autofree gchar *name = g_strconcat (attempt->upload_id, ".json", NULL);
  g_autofree gchar *receipt_path = g_build_filename (self->receipts, name, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *upload_id = g_strdup (attempt->upload_id);

  if (!kith_file_write_atomic (receipt_path, document, len, 0644, &error)) {
    g_warning ("cannot keep the receipt of %s: %s", attempt->report->name, error->message);
    kith_upload_finish (self, FALSE, "receipt not saved");
    return;
  }
  if (attempt->responder != NULL)
    kith_upload_backoff_clear (self->backoff, attempt->responder);
  g_message ("report %s delivered %s%s", attempt->report->name, attempt->responder != NULL ? "through " : "directly",
             attempt->responder != NULL ? attempt->responder : "");
  self->delivered++;
  kith_upload_count (self, "kith_upload_delivered_total",
                     attempt->responder != NULL ? "via=\"peer\"" : "via=\"direct\"");
  /* the report leaves the outbox first: whoever hears "delivered" sees it gone */
  kith_upload_finish (self, TRUE, NULL);
  g_signal_emit (self, signals[SIGNAL_DELIVERED], 0, upload_id, text);
}

static void
kith_upload_measure (KithUpload *self, gsize size)
{
  gint64 elapsed = g_get_monotonic_time () - self->attempt->started;
  guint64 speed;

  if (size < 16 * 1024 || elapsed <= 0)
    return; /* too small to say anything about the link */
  speed = (guint64) size * G_USEC_PER_SEC / (guint64) elapsed;
  self->speed = (self->speed * 3 + speed) / 4;
}

static void
kith_upload_post_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (KithUpload) self = user_data; /* the ref taken for this request */
  KithAttempt *attempt = self->attempt;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), res, &error);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), res);
  g_autofree gchar *reason = NULL;
  g_autofree gchar *text = NULL;
  KithUploadExpect expect;
  guint status;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || attempt == NULL)
    return; /* stopped, or T ran out and the timer handled it */
  g_clear_handle_id (&attempt->timer_id, g_source_remove);
  if (body == NULL && attempt->responder == NULL && self->broker != NULL) {
    g_message ("backend unreachable (%s): asking peers to upload %s", error->message, attempt->report->name);
    g_free (attempt->direct_error);
    attempt->direct_error = g_strdup (error->message);
    kith_upload_ask_peers (self);
    return;
  }
  if (body == NULL) {
    g_autofree gchar *why = g_strdup_printf ("cannot send: %s", error->message);
    if (attempt->responder != NULL)
      kith_upload_fault (self, attempt->responder, why);
    kith_upload_finish (self, FALSE, why);
    return;
  }
  status = soup_message_get_status (msg);
  if (status != SOUP_STATUS_OK) {
    /* no receipt, and no claim of one either: nothing proven against the responder */
    g_autofree gchar *why = g_strdup_printf ("HTTP %u without a receipt", status);
    if (attempt->responder != NULL)
      kith_upload_fault (self, attempt->responder, why);
    kith_upload_finish (self, FALSE, why);
    return;
  }
  kith_upload_measure (self, g_bytes_get_size (attempt->content));
  expect = (KithUploadExpect){ attempt->upload_id, attempt->sha256, g_bytes_get_size (attempt->content),
                               kith_agent_get_node_id (self->agent) };
  if (!kith_upload_verify_receipt (self->anchor_pem, body, &expect, kith_upload_now (), &text, &reason)) {
    if (attempt->responder != NULL)
      kith_upload_blacklist_node (self, attempt->responder, NULL, reason);
    kith_upload_finish (self, FALSE, reason);
    return;
  }
  kith_upload_delivered (self, g_bytes_get_data (body, NULL), g_bytes_get_size (body), text);
}

/* T ran out (claims 4, 12): a responder that took the whole report and gave no receipt is
 * blacklisted; one that never took it all (a stalled or dead link) only backs off. The
 * report is tried elsewhere. */
static gboolean
kith_upload_timeout_cb (gpointer user_data)
{
  KithUpload *self = user_data;
  KithAttempt *attempt = self->attempt;
  g_autofree gchar *why = g_strdup (attempt->timeout_reason);

  attempt->timer_id = 0;
  g_cancellable_cancel (attempt->cancellable);
  if (attempt->responder != NULL && attempt->handed_over)
    kith_upload_blacklist_node (self, attempt->responder, NULL, why);
  else if (attempt->responder != NULL) {
    g_free (why);
    why = g_strdup_printf ("%s, the report not even taken", attempt->timeout_reason);
    kith_upload_fault (self, attempt->responder, why);
  }
  kith_upload_finish (self, FALSE, why);
  return G_SOURCE_REMOVE;
}

static void
kith_upload_wrote_body_cb (SoupMessage *msg, gpointer user_data)
{
  KithAttempt *attempt = user_data;
  attempt->handed_over = TRUE;
}

static void
kith_upload_post (KithUpload *self, const gchar *url, guint64 t_ms)
{
  KithAttempt *attempt = self->attempt;
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_POST, url);
  g_autofree gchar *blacklist = kith_upload_blacklist_to_header (self->blacklist, kith_upload_now ());
  SoupMessageHeaders *headers;

  if (msg == NULL) {
    kith_upload_finish (self, FALSE, "unusable URL");
    return;
  }
  headers = soup_message_get_request_headers (msg);
  soup_message_headers_replace (headers, "X-Kith-Upload-Id", attempt->upload_id);
  soup_message_headers_replace (headers, "X-Kith-Node", kith_agent_get_node_id (self->agent));
  /* the patent's "report the responding server peer in a next report" */
  if (blacklist != NULL)
    soup_message_headers_replace (headers, "X-Kith-Blacklist", blacklist);
  soup_message_set_request_body_from_bytes (msg, "application/octet-stream", attempt->content);
  if (attempt->msg != NULL) {
    g_signal_handlers_disconnect_matched (attempt->msg, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, attempt);
    g_clear_object (&attempt->msg);
  }
  attempt->msg = g_object_ref (msg);
  attempt->handed_over = FALSE;
  g_signal_connect (msg, "wrote-body", G_CALLBACK (kith_upload_wrote_body_cb), attempt);
  g_free (attempt->timeout_reason);
  attempt->timeout_reason = g_strdup_printf ("no receipt within T=%" G_GUINT64_FORMAT " ms", t_ms);
  attempt->timer_id = g_timeout_add ((guint) MIN (t_ms, G_MAXUINT), kith_upload_timeout_cb, self);
  attempt->started = g_get_monotonic_time ();
  g_debug ("POST %s to %s, T=%" G_GUINT64_FORMAT " ms", attempt->report->name, url, t_ms);
  soup_session_send_and_read_async (self->session, msg, G_PRIORITY_DEFAULT, attempt->cancellable,
                                    kith_upload_post_cb, g_object_ref (self));
}

static gboolean
kith_upload_found_cb (gpointer user_data)
{
  KithUpload *self = user_data;
  if (self->attempt != NULL)
    kith_upload_end_request (self);
  return G_SOURCE_REMOVE;
}

/* FIG. 9 (docs/architecture.md): every offer is checked before a byte is sent; a failing one is blacklisted and
 * we keep listening for others. */
static void
kith_upload_offer_cb (guint32 id, const KithTaskOffer *offer, gpointer user_data)
{
  KithUpload *self = user_data;
  KithAttempt *attempt = self->attempt;
  g_autofree gchar *reason = NULL;
  g_autofree gchar *from = NULL;
  guint64 t_ms;

  if (attempt == NULL || attempt->request_id != id || attempt->responder != NULL)
    return;
  from = offer->from != NULL ? g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (offer->from)) : NULL;
  if (kith_upload_blacklist_contains (self->blacklist, offer->node, from, kith_upload_now ())) {
    g_debug ("ignoring the offer of blacklisted node %s", offer->node);
    return;
  }
  if (kith_upload_backoff_active (self->backoff, offer->node, g_get_monotonic_time ())) {
    g_debug ("ignoring the offer of node %s: backing off after its last fault", offer->node);
    return;
  }
  if (!kith_task_offer_verify (offer, id, self->anchor_pem, KITH_PEER_ROLE_UPLOAD, kith_upload_now (), &reason)) {
    g_message ("refused the upload offer of %s: %s", offer->node, reason);
    kith_upload_blacklist_node (self, offer->node, from, reason);
    return;
  }
  g_clear_handle_id (&attempt->timer_id, g_source_remove);
  attempt->responder = g_strdup (offer->node);
  kith_task_broker_found (self->broker, id);
  /* not from inside the broker's own callback */
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, kith_upload_found_cb, g_object_ref (self), g_object_unref);
  t_ms = kith_upload_receipt_time_ms (g_bytes_get_size (attempt->content), self->speed,
                                      (guint64) offer->interval * 1000, self->slack);
  kith_upload_post (self, offer->alias, t_ms);
}

static gboolean
kith_upload_offer_wait_cb (gpointer user_data)
{
  KithUpload *self = user_data;
  self->attempt->timer_id = 0;
  kith_upload_finish (self, FALSE, "no trusted peer offered to upload");
  return G_SOURCE_REMOVE;
}

static void
kith_upload_ask_peers (KithUpload *self)
{
  KithAttempt *attempt = self->attempt;

  attempt->request_id = kith_task_broker_request (self->broker, "upload", self->upload_url, kith_upload_offer_cb, self);
  attempt->timer_id = g_timeout_add ((guint) self->offer_wait, kith_upload_offer_wait_cb, self);
  g_debug ("asked the LAN to upload %s (request %u)", attempt->report->name, attempt->request_id);
}

static void
kith_upload_start (KithUpload *self, KithOutboxReport *report)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) content = kith_upload_outbox_read (self->outbox, report->name, &error);
  KithAttempt *attempt;

  if (content == NULL) {
    report->next_try = G_MAXINT64; /* until the file goes away: see the scan */
    if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
      g_warning ("report %s not sent: %s", report->name, error->message);
    return;
  }
  attempt = g_new0 (KithAttempt, 1);
  attempt->report = report;
  attempt->cancellable = g_cancellable_new ();
  attempt->content = g_steal_pointer (&content);
  attempt->sha256 = kith_crypto_sha256_hex (attempt->content);
  attempt->upload_id = kith_upload_outbox_report_id (kith_agent_get_node_id (self->agent), report->name,
                                                     attempt->sha256);
  report->sending = TRUE;
  self->attempt = attempt;
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  if (self->direct && kith_agent_can_reach_backend (self->agent) && report->attempts % 2 == 0) {
    /* every other attempt goes through peers, so a backend that is reachable but never
     * answers with a receipt does not keep the report from them */
    kith_upload_post (self, self->upload_url,
                      kith_upload_receipt_time_ms (g_bytes_get_size (attempt->content), self->speed, 0, self->slack));
    return;
  }
  if (self->broker == NULL) {
    kith_upload_finish (self, FALSE, "no peering service to ask");
    return;
  }
  kith_upload_ask_peers (self);
}

/* One report at a time, oldest name first, among those not backing off. */
static void
kith_upload_next (KithUpload *self)
{
  g_autoptr (GPtrArray) reports = NULL;
  gint64 now = g_get_monotonic_time ();

  if (self->attempt != NULL || self->scan_id == 0)
    return;
  reports = kith_upload_outbox_list (self->outbox);
  for (guint i = 0; i < reports->len && self->attempt == NULL; i++) {
    KithOutboxReport *report = g_ptr_array_index (reports, i);
    if (report->next_try <= now)
      kith_upload_start (self, report);
  }
}

static gboolean
kith_upload_scan_cb (gpointer user_data)
{
  KithUpload *self = user_data;
  if (kith_upload_outbox_scan (self->outbox))
    g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  kith_upload_next (self);
  return G_SOURCE_CONTINUE;
}

/* The report of one Upload(fd) is read whole: into the outbox with it. */
static void
kith_upload_read_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  KithUpload *self = g_task_get_source_object (task);
  const gchar *name = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr (GBytes) content = kith_upload_reader_read_finish (res, &error);
  g_autofree gchar *stored = NULL;
  g_autofree gchar *sha = NULL;

  self->reads--;
  if (content == NULL) {
    g_task_return_error (task, error);
    return;
  }
  stored = kith_upload_outbox_add (self->outbox, name, content, &error);
  if (stored == NULL) {
    g_task_return_error (task, error);
    return;
  }
  sha = kith_crypto_sha256_hex (content);
  if (self->scan_id != 0)
    kith_upload_scan_cb (self);
  g_task_return_pointer (task, kith_upload_outbox_report_id (kith_agent_get_node_id (self->agent), stored, sha),
                         g_free);
}

void
kith_upload_add_async (KithUpload *self, gint fd, const gchar *name, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, kith_upload_add_async);
  if (self->scan_id == 0 || self->reads >= KITH_UPLOAD_MAX_READS) {
#ifdef G_OS_UNIX
    close (fd);
#endif
    g_task_return_new_error (task, KITH_UPLOAD_ERROR, KITH_UPLOAD_ERROR_FAILED,
                             self->scan_id == 0 ? "the upload service is stopping"
                                                : "too many reports being handed over at once; try again");
    return;
  }
  self->reads++;
  g_task_set_task_data (task, g_strdup (name), g_free);
  kith_upload_reader_read_async (fd, self->max_size, self->read_timeout, self->reads_cancellable,
                                 kith_upload_read_cb, g_steal_pointer (&task));
}

gchar *
kith_upload_add_finish (KithUpload *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

gboolean
kith_upload_cancel (KithUpload *self, const gchar *name, GError **error)
{
  /* a report dropped in since the last scan can be cancelled too */
  gboolean scanned = kith_upload_outbox_scan (self->outbox);

  if (self->attempt != NULL && g_strcmp0 (self->attempt->report->name, name) == 0) {
    /* stop sending it first: nothing of it goes out after this */
    g_message ("report %s cancelled while being sent", name);
    kith_upload_end_request (self);
    self->attempt->report->sending = FALSE;
    g_clear_pointer (&self->attempt, kith_upload_attempt_free);
  }
  if (!kith_upload_outbox_cancel (self->outbox, name, error)) {
    if (scanned)
      g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
    kith_upload_next (self);
    return FALSE;
  }
  g_message ("report %s cancelled: removed from the outbox", name);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  kith_upload_next (self);
  return TRUE;
}

GVariant *
kith_upload_get_pending (KithUpload *self)
{
  return kith_upload_outbox_to_variant (self->outbox, g_get_monotonic_time ());
}

guint64
kith_upload_get_delivered (KithUpload *self)
{
  return self->delivered;
}

KithUploadBlacklist *
kith_upload_get_blacklist (KithUpload *self)
{
  return self->blacklist;
}

gchar *
kith_upload_get_receipt (KithUpload *self, const gchar *upload_id)
{
  g_autofree gchar *name = g_strconcat (upload_id, ".json", NULL);
  g_autofree gchar *path = g_build_filename (self->receipts, name, NULL);
  gchar *document = NULL;

  if (strchr (upload_id, '/') != NULL || !g_file_get_contents (path, &document, NULL, NULL))
    return NULL;
  return document;
}

GVariant *
kith_upload_get_status (KithUpload *self)
{
  g_autoptr (GPtrArray) live = kith_upload_blacklist_list (self->blacklist, kith_upload_now ());
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "pending", "u", kith_upload_outbox_get_count (self->outbox));
  g_variant_dict_insert (&dict, "delivered", "t", self->delivered);
  g_variant_dict_insert (&dict, "blacklisted", "u", live->len);
  g_variant_dict_insert (&dict, "backing-off", "u", kith_upload_backoff_count_active (self->backoff, g_get_monotonic_time ()));
  g_variant_dict_insert (&dict, "serving", "b", self->server != NULL && kith_upload_server_is_serving (self->server));
  g_variant_dict_insert (&dict, "forwarded", "t",
                         self->server != NULL ? kith_upload_server_get_forwarded (self->server) : 0);
  g_variant_dict_insert (&dict, "speed", "t", self->speed);
  return g_variant_dict_end (&dict);
}

void
kith_upload_stop (KithUpload *self)
{
  g_clear_handle_id (&self->scan_id, g_source_remove);
  g_cancellable_cancel (self->reads_cancellable);
  if (self->attempt != NULL) {
    kith_upload_end_request (self);
    g_clear_pointer (&self->attempt, kith_upload_attempt_free);
  }
  g_clear_pointer (&self->server, kith_upload_server_free);
  if (self->session != NULL)
    soup_session_abort (self->session);
}

static void
kith_upload_finalize (GObject *object)
{
  KithUpload *self = KITH_UPLOAD (object);

  kith_upload_stop (self);
  g_clear_object (&self->session);
  g_clear_pointer (&self->blacklist, kith_upload_blacklist_free);
  g_clear_pointer (&self->backoff, kith_upload_backoff_free);
  g_clear_pointer (&self->outbox, kith_upload_outbox_free);
  g_clear_object (&self->reads_cancellable);
  g_free (self->anchor_pem);
  g_free (self->outbox_dir);
  g_free (self->receipts);
  g_free (self->upload_url);
  G_OBJECT_CLASS (kith_upload_parent_class)->finalize (object);
}

static void
kith_upload_class_init (KithUploadClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kith_upload_finalize;
  signals[SIGNAL_DELIVERED] = g_signal_new ("delivered", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                            NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_BLACKLISTED] = g_signal_new ("blacklisted", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                              NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                          NULL, G_TYPE_NONE, 0);
}

static void
kith_upload_init (KithUpload *self)
{
  self->reads_cancellable = g_cancellable_new ();
}

static const gchar *const kith_upload_keys[] = {
  "outbox", "direct", "serve", "interval", "max-size", "offer-wait", "retry", "retry-max",
  "receipt-slack", "speed", "blacklist-time", "scan", "peer-backoff", "peer-backoff-max", "read-timeout", NULL,
};

static gboolean
kith_upload_read_config (KithUpload *self, gboolean *serve, guint64 *interval, GError **error)
{
  KithConfig *config = kith_agent_get_config (self->agent);
  g_autofree gchar *default_outbox = g_build_filename (kith_agent_get_state_dir (self->agent), "upload", "outbox", NULL);

  return kith_config_check_keys (config, "upload", kith_upload_keys, error) &&
         (self->outbox_dir = kith_config_get_path (config, "upload", "outbox", default_outbox, error)) != NULL &&
         kith_config_get_boolean (config, "upload", "direct", TRUE, &self->direct, error) &&
         kith_config_get_boolean (config, "upload", "serve", TRUE, serve, error) &&
         kith_config_get_uint64 (config, "upload", "interval", 0, 0, 86400, interval, error) &&
         kith_config_get_uint64 (config, "upload", "max-size", 16 * 1024 * 1024, 1, G_MAXUINT32, &self->max_size,
                                 error) &&
         kith_config_get_duration_ms (config, "upload", "offer-wait", 3000, &self->offer_wait, error) &&
         kith_config_get_duration_ms (config, "upload", "retry", 5000, &self->retry, error) &&
         kith_config_get_duration_ms (config, "upload", "retry-max", 300000, &self->retry_max, error) &&
         kith_config_get_duration_ms (config, "upload", "receipt-slack", 10000, &self->slack, error) &&
         kith_config_get_uint64 (config, "upload", "speed", 125000, 1, G_MAXUINT32, &self->speed, error) &&
         kith_config_get_duration_ms (config, "upload", "blacklist-time", 24 * 3600 * 1000, &self->blacklist_time,
                                      error) &&
         kith_config_get_duration_ms (config, "upload", "scan", 2000, &self->scan, error) &&
         kith_config_get_duration_ms (config, "upload", "peer-backoff", 2000, &self->peer_backoff, error) &&
         kith_config_get_duration_ms (config, "upload", "peer-backoff-max", 300000, &self->peer_backoff_max, error) &&
         kith_config_get_duration_ms (config, "upload", "read-timeout", 60000, &self->read_timeout, error);
}

static gboolean
kith_upload_make_dirs (KithUpload *self, GError **error)
{
  const gchar *dirs[] = { self->outbox_dir, self->receipts };

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++) {
    if (g_mkdir_with_parents (dirs[i], 0755) != 0) {
      g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_FAILED, "cannot create %s: %s", dirs[i],
                   g_strerror (errno));
      return FALSE;
    }
  }
  return TRUE;
}

KithUpload *
kith_upload_new (KithAgent *agent, GError **error)
{
  g_autoptr (KithUpload) self = g_object_new (KITH_TYPE_UPLOAD, NULL);
  const gchar *anchor = kith_agent_get_trust_anchor (agent);
  const gchar *backend = kith_agent_get_backend_url (agent);
  g_autofree gchar *blacklist_path = NULL;
  GObject *peering = kith_agent_get_service (agent, "peering");
  gboolean serve = TRUE;
  guint64 interval = 0;

  self->agent = agent;
  if (!kith_upload_read_config (self, &serve, &interval, error))
    return NULL;
  if (anchor == NULL || backend == NULL) {
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_CONFIG,
                 "upload needs [agent] trust-anchor and backend-url (receipts and offers are checked against them)");
    return NULL;
  }
  if (!g_file_get_contents (anchor, &self->anchor_pem, NULL, error))
    return NULL;
  self->receipts = g_build_filename (kith_agent_get_state_dir (agent), "upload", "receipts", NULL);
  if (!kith_upload_make_dirs (self, error))
    return NULL;
  self->outbox = kith_upload_outbox_new (self->outbox_dir, self->max_size);
  blacklist_path = g_build_filename (kith_agent_get_state_dir (agent), "upload", "blacklist.json", NULL);
  self->blacklist = kith_upload_blacklist_new (blacklist_path, (gint64) (self->blacklist_time / 1000));
  self->backoff = kith_upload_backoff_new (self->peer_backoff, self->peer_backoff_max, KITH_UPLOAD_BACKOFF_NODES);
  self->broker = peering != NULL && KITH_IS_TASK_BROKER (peering) ? KITH_TASK_BROKER (peering) : NULL;
  self->upload_url = g_strconcat (backend, "/upload", NULL);
  self->session = soup_session_new_with_options ("user-agent", "kith-upload", "timeout", 0, NULL);
  kith_backend_trust_session (agent, self->session);
  if (serve && self->broker != NULL && !kith_agent_get_offline (agent) &&
      kith_agent_get_enrollment_token (agent) != NULL) {
    self->server = kith_upload_server_new (agent, self->session, self->max_size, (guint32) interval);
    if (!kith_upload_server_start (self->server, error))
      return NULL;
  }
  kith_metrics_register (kith_agent_get_metrics (agent), "kith_upload_delivered_total", KITH_METRIC_COUNTER,
                         "Reports delivered with a valid receipt, by path");
  kith_metrics_register (kith_agent_get_metrics (agent), "kith_upload_failed_attempts_total", KITH_METRIC_COUNTER,
                         "Attempts that ended without a valid receipt");
  kith_metrics_register (kith_agent_get_metrics (agent), "kith_upload_blacklisted_total", KITH_METRIC_COUNTER,
                         "Responders blacklisted, by whether they had proven their identity");
  kith_metrics_register (kith_agent_get_metrics (agent), "kith_upload_responder_faults_total", KITH_METRIC_COUNTER,
                         "Responders put in back-off after a failed connection, a timeout or an HTTP error");
  self->scan_id = g_timeout_add ((guint) MAX (self->scan, 10), kith_upload_scan_cb, self);
  kith_upload_scan_cb (self);
  return g_steal_pointer (&self);
}
