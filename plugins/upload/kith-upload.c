/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload.c — the requesting side: which report goes next and how, the retry back-off,
 * receipts kept, the blacklist and the responders' back-off fed (one attempt at a report is
 * kith-upload-attempt's, the reports themselves kith-upload-outbox's) */
#include "kith-upload.h"
#include "kith-backend-trust.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#ifdef G_OS_UNIX
#include <unistd.h>
#endif

#include "kith-crypto.h"
#include "kith-file.h"
#include "kith-upload-attempt.h"
#include "kith-upload-backoff.h"
#include "kith-upload-error.h"
#include "kith-upload-outbox.h"
#include "kith-peer-identity.h"
#include "kith-upload-reader.h"
#include "kith-upload-server.h"

/* Upload(fd) calls being read at once */
#define KITH_UPLOAD_MAX_READS 8
/* responders remembered in back-off at once */
#define KITH_UPLOAD_BACKOFF_NODES 256

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
  guint64 peer_backoff, peer_backoff_max, read_timeout, enroll_timeout;
  guint reads; /* Upload(fd) calls being read */
  GCancellable *reads_cancellable;
  KithUploadAttempt *attempt;
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

static gint64
kith_upload_now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* Ends the current attempt: a delivered report leaves the pending list, a failed one backs
 * off (doubling, capped). */
static void
kith_upload_finish (KithUpload *self, gboolean ok, const gchar *why)
{
  KithUploadAttempt *attempt = self->attempt;
  KithOutboxReport *report = kith_upload_attempt_get_report (attempt);
  const gchar *direct_error = kith_upload_attempt_get_direct_error (attempt);

  self->attempt = NULL;
  report->sending = FALSE;
  if (!ok) {
    guint64 delay = MIN (self->retry << MIN (report->attempts, 16u), self->retry_max);
    report->attempts++;
    report->next_try = g_get_monotonic_time () + (gint64) delay * 1000;
    if (direct_error != NULL) {
      g_autofree gchar *both = g_strdup_printf ("backend unreachable (%s); %s", direct_error, why);
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
  KithUploadAttempt *attempt = self->attempt;
  const gchar *report = kith_upload_attempt_get_report (attempt)->name;
  const gchar *responder = kith_upload_attempt_get_responder (attempt);
  g_autofree gchar *upload_id = g_strdup (kith_upload_attempt_get_upload_id (attempt));
  g_autofree gchar *name = g_strconcat (upload_id, ".json", NULL);
  g_autofree gchar *receipt_path = g_build_filename (self->receipts, name, NULL);
  g_autoptr (GError) error = NULL;

  if (!kith_file_write_atomic (receipt_path, document, len, 0644, &error)) {
    g_warning ("cannot keep the receipt of %s: %s", report, error->message);
    kith_upload_finish (self, FALSE, "receipt not saved");
    return;
  }
  if (responder != NULL)
    kith_upload_backoff_clear (self->backoff, responder);
  g_message ("report %s delivered %s%s", report, responder != NULL ? "through " : "directly",
             responder != NULL ? responder : "");
  self->delivered++;
  kith_upload_count (self, "kith_upload_delivered_total",
                     responder != NULL ? "via=\"peer\"" : "via=\"direct\"");
  /* the report leaves the outbox first: whoever hears "delivered" sees it gone */
  kith_upload_finish (self, TRUE, NULL);
  g_signal_emit (self, signals[SIGNAL_DELIVERED], 0, upload_id, text);
}

/* ---- the attempt's callbacks ---- */

static void
kith_upload_misbehaved_cb (const gchar *node, const gchar *address, const gchar *reason, gpointer user_data)
{
  kith_upload_blacklist_node (user_data, node, address, reason);
}

static void
kith_upload_fault_cb (const gchar *node, const gchar *why, gpointer user_data)
{
  kith_upload_fault (user_data, node, why);
}

/* @size bytes took @elapsed µs to post: the link's speed, for the next T. */
static void
kith_upload_sent_cb (gsize size, gint64 elapsed, gpointer user_data)
{
  KithUpload *self = user_data;
  guint64 speed;

  if (size < 16 * 1024 || elapsed <= 0)
    return; /* too small to say anything about the link */
  speed = (guint64) size * G_USEC_PER_SEC / (guint64) elapsed;
  self->speed = (self->speed * 3 + speed) / 4;
}

static void
kith_upload_done_cb (GBytes *receipt, const gchar *text, const gchar *why, gpointer user_data)
{
  KithUpload *self = user_data;

  if (receipt != NULL)
    kith_upload_delivered (self, g_bytes_get_data (receipt, NULL), g_bytes_get_size (receipt), text);
  else
    kith_upload_finish (self, FALSE, why);
}

static const KithUploadAttemptCallbacks kith_upload_attempt_callbacks = {
  .misbehaved = kith_upload_misbehaved_cb,
  .fault = kith_upload_fault_cb,
  .sent = kith_upload_sent_cb,
  .done = kith_upload_done_cb,
};

/* ---- the next report ---- */

static void
kith_upload_start (KithUpload *self, KithOutboxReport *report)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) content = kith_upload_outbox_read (self->outbox, report->name, &error);
  g_autofree gchar *sha256 = NULL;
  g_autofree gchar *upload_id = NULL;
  KithUploadAttemptContext context = {
    .agent = self->agent,
    .session = self->session,
    .broker = self->broker,
    .blacklist = self->blacklist,
    .backoff = self->backoff,
    .anchor_pem = self->anchor_pem,
    .upload_url = self->upload_url,
    .offer_wait_ms = self->offer_wait,
    .slack_ms = self->slack,
    .speed = self->speed,
  };

  if (content == NULL) {
    report->next_try = G_MAXINT64; /* until the file goes away: see the scan */
    if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
      g_warning ("report %s not sent: %s", report->name, error->message);
    return;
  }
  sha256 = kith_crypto_sha256_hex (content);
  upload_id = kith_upload_outbox_report_id (kith_agent_get_node_id (self->agent), report->name, sha256);
  report->sending = TRUE;
  self->attempt = kith_upload_attempt_new (&context, report, content, upload_id, sha256,
                                           &kith_upload_attempt_callbacks, self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  /* every other attempt goes through peers, so a backend that is reachable but never
   * answers with a receipt does not keep the report from them */
  kith_upload_attempt_start (self->attempt, self->direct && kith_agent_can_reach_backend (self->agent) &&
                                                report->attempts % 2 == 0);
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

  if (self->attempt != NULL && g_strcmp0 (kith_upload_attempt_get_report (self->attempt)->name, name) == 0) {
    /* stop sending it first: nothing of it goes out after this */
    g_message ("report %s cancelled while being sent", name);
    kith_upload_attempt_get_report (self->attempt)->sending = FALSE;
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
  g_variant_dict_insert (&dict, "forwards-cut", "t",
                         self->server != NULL ? kith_upload_server_get_forwards_cut (self->server) : 0);
  g_variant_dict_insert (&dict, "speed", "t", self->speed);
  return g_variant_dict_end (&dict);
}

void
kith_upload_stop (KithUpload *self)
{
  g_clear_handle_id (&self->scan_id, g_source_remove);
  g_cancellable_cancel (self->reads_cancellable);
  g_clear_pointer (&self->attempt, kith_upload_attempt_free);
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
  "receipt-slack", "speed", "blacklist-time", "scan", "peer-backoff", "peer-backoff-max", "read-timeout",
  "enroll-timeout", NULL,
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
         kith_config_get_duration_ms (config, "upload", "read-timeout", 60000, &self->read_timeout, error) &&
         kith_config_get_duration_ms (config, "upload", "enroll-timeout", 60000, &self->enroll_timeout, error);
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
    self->server = kith_upload_server_new (agent, self->session, self->max_size, (guint32) interval,
                                           self->enroll_timeout);
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
  kith_metrics_register (kith_agent_get_metrics (agent), "kith_upload_forwards_cut_total", KITH_METRIC_COUNTER,
                         "Forwards given up: the backend had not answered by the requester's T and a margin");
  self->scan_id = g_timeout_add ((guint) MAX (self->scan, 10), kith_upload_scan_cb, self);
  kith_upload_scan_cb (self);
  return g_steal_pointer (&self);
}
