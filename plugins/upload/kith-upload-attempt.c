/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload-attempt.c — one attempt at one report: the POST direct or through the peer that
 * offered, every offer checked before a byte is sent, the receipt awaited for T */
#include "kith-upload-attempt.h"

#include "kith-http-request.h"
#include "kith-upload-verify.h"

/* The largest answer to a POST that is read: a receipt is a few KiB. */
#define KITH_UPLOAD_ATTEMPT_ANSWER_MAX (1024 * 1024)

/* Shared by its owner and each callback in flight (the POST, the "found" idle): freed by the
 * owner, it is over, and what is still in flight only drops its ref. */
struct _KithUploadAttempt {
  KithUploadAttemptContext context;
  KithUploadAttemptCallbacks callbacks;
  gpointer user_data;
  KithOutboxReport *report; /* borrowed from the outbox */
  GBytes *content;
  gchar *upload_id;
  gchar *sha256;
  guint32 request_id; /* 0: no task request open */
  gchar *responder;   /* NULL: direct to the backend */
  guint timer_id;     /* offer wait or receipt time T */
  gchar *timeout_reason;
  GCancellable *cancellable;
  SoupMessage *msg;     /* the POST in flight, or NULL */
  gboolean handed_over; /* the whole report was written to the responder */
  gint64 started;       /* monotonic µs the POST began */
  gchar *direct_error;  /* why the backend could not be reached, when peers were asked instead */
  gboolean over;        /* freed by its owner: no callback any more */
};

static void kith_upload_attempt_ask_peers (KithUploadAttempt *self);

static gint64
kith_upload_attempt_now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static void
kith_upload_attempt_disconnect_msg (KithUploadAttempt *self)
{
  if (self->msg != NULL) {
    g_signal_handlers_disconnect_matched (self->msg, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
    g_clear_object (&self->msg);
  }
}

static void
kith_upload_attempt_clear (KithUploadAttempt *self)
{
  g_object_unref (self->cancellable);
  g_bytes_unref (self->content);
  g_free (self->upload_id);
  g_free (self->sha256);
  g_free (self->responder);
  g_free (self->timeout_reason);
  g_free (self->direct_error);
}

static KithUploadAttempt *
kith_upload_attempt_ref (KithUploadAttempt *self)
{
  return g_rc_box_acquire (self);
}

static void
kith_upload_attempt_unref (KithUploadAttempt *self)
{
  g_rc_box_release_full (self, (GDestroyNotify) kith_upload_attempt_clear);
}

KithUploadAttempt *
kith_upload_attempt_new (const KithUploadAttemptContext *context, KithOutboxReport *report, GBytes *content,
                         const gchar *upload_id, const gchar *sha256,
                         const KithUploadAttemptCallbacks *callbacks, gpointer user_data)
{
  KithUploadAttempt *self = g_rc_box_new0 (KithUploadAttempt);

  self->context = *context;
  self->callbacks = *callbacks;
  self->user_data = user_data;
  self->report = report;
  self->cancellable = g_cancellable_new ();
  self->content = g_bytes_ref (content);
  self->upload_id = g_strdup (upload_id);
  self->sha256 = g_strdup (sha256);
  return self;
}

static void
kith_upload_attempt_end_request (KithUploadAttempt *self)
{
  if (self->request_id != 0)
    kith_task_broker_end (self->context.broker, self->request_id);
  self->request_id = 0;
}

void
kith_upload_attempt_free (KithUploadAttempt *self)
{
  kith_upload_attempt_end_request (self);
  self->over = TRUE;
  g_clear_handle_id (&self->timer_id, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  kith_upload_attempt_disconnect_msg (self);
  kith_upload_attempt_unref (self);
}

/* Ends the attempt without a receipt: the last thing any path of it does. */
static void
kith_upload_attempt_fail (KithUploadAttempt *self, const gchar *why)
{
  self->callbacks.done (NULL, NULL, why, self->user_data);
}

/* ---- the POST and its receipt ---- */

static void
kith_upload_attempt_post_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  KithUploadAttempt *self = user_data; /* the ref taken for this request */
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = kith_http_request_send_finish (res, &error);
  SoupMessage *msg = SOUP_MESSAGE (source);
  gboolean too_large = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
  g_autofree gchar *reason = NULL;
  g_autofree gchar *text = NULL;
  g_autofree gchar *why = NULL;
  KithUploadExpect expect;
  guint status;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->over) {
    kith_upload_attempt_unref (self);
    return; /* stopped, or T ran out and the timer handled it */
  }
  kith_upload_attempt_unref (self); /* the owner's ref keeps it until "done" */
  g_clear_handle_id (&self->timer_id, g_source_remove);
  if (body == NULL && !too_large && self->responder == NULL && self->context.broker != NULL) {
    g_message ("backend unreachable (%s): asking peers to upload %s", error->message, self->report->name);
    g_free (self->direct_error);
    self->direct_error = g_strdup (error->message);
    kith_upload_attempt_ask_peers (self);
    return;
  }
  if (body == NULL && !too_large) {
    why = g_strdup_printf ("cannot send: %s", error->message);
    if (self->responder != NULL)
      self->callbacks.fault (self->responder, why, self->user_data);
    kith_upload_attempt_fail (self, why);
    return;
  }
  status = soup_message_get_status (msg);
  if (status != SOUP_STATUS_OK) {
    /* no receipt, and no claim of one either: nothing proven against the responder */
    why = g_strdup_printf ("HTTP %u without a receipt", status);
    if (self->responder != NULL)
      self->callbacks.fault (self->responder, why, self->user_data);
    kith_upload_attempt_fail (self, why);
    return;
  }
  self->callbacks.sent (g_bytes_get_size (self->content), g_get_monotonic_time () - self->started,
                        self->user_data);
  expect = (KithUploadExpect){ self->upload_id, self->sha256, g_bytes_get_size (self->content),
                               kith_agent_get_node_id (self->context.agent) };
  if (too_large)
    reason = g_strdup_printf ("an answer of %s, not a receipt", error->message);
  if (too_large || !kith_upload_verify_receipt (self->context.anchor_pem, body, &expect,
                                                kith_upload_attempt_now (), &text, &reason)) {
    if (self->responder != NULL)
      self->callbacks.misbehaved (self->responder, NULL, reason, self->user_data);
    kith_upload_attempt_fail (self, reason);
    return;
  }
  self->callbacks.done (body, text, NULL, self->user_data);
}

/* T ran out (claims 4, 12): a responder that took the whole report and gave no receipt is
 * blacklisted; one that never took it all (a stalled or dead link) only backs off. The
 * report is tried elsewhere. */
static gboolean
kith_upload_attempt_timeout_cb (gpointer user_data)
{
  KithUploadAttempt *self = user_data;
  g_autofree gchar *why = g_strdup (self->timeout_reason);

  self->timer_id = 0;
  g_cancellable_cancel (self->cancellable);
  if (self->responder != NULL && self->handed_over)
    self->callbacks.misbehaved (self->responder, NULL, why, self->user_data);
  else if (self->responder != NULL) {
    g_free (why);
    why = g_strdup_printf ("%s, the report not even taken", self->timeout_reason);
    self->callbacks.fault (self->responder, why, self->user_data);
  }
  kith_upload_attempt_fail (self, why);
  return G_SOURCE_REMOVE;
}

static void
kith_upload_attempt_wrote_body_cb (SoupMessage *msg, gpointer user_data)
{
  KithUploadAttempt *self = user_data;
  self->handed_over = TRUE;
}

static void
kith_upload_attempt_post (KithUploadAttempt *self, const gchar *url, guint64 t_ms)
{
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_POST, url);
  g_autofree gchar *blacklist =
      kith_upload_blacklist_to_header (self->context.blacklist, kith_upload_attempt_now ());
  g_autofree gchar *t_text = NULL;
  SoupMessageHeaders *headers;

  if (msg == NULL) {
    kith_upload_attempt_fail (self, "unusable URL");
    return;
  }
  headers = soup_message_get_request_headers (msg);
  soup_message_headers_replace (headers, "X-Kith-Upload-Id", self->upload_id);
  soup_message_headers_replace (headers, "X-Kith-Node", kith_agent_get_node_id (self->context.agent));
  /* the patent's "report the responding server peer in a next report" */
  if (blacklist != NULL)
    soup_message_headers_replace (headers, "X-Kith-Blacklist", blacklist);
  /* a responder waits for the backend's answer no longer than we wait for it */
  t_text = g_strdup_printf ("%" G_GUINT64_FORMAT, t_ms);
  soup_message_headers_replace (headers, "X-Kith-Receipt-Time", t_text);
  soup_message_set_request_body_from_bytes (msg, "application/octet-stream", self->content);
  kith_upload_attempt_disconnect_msg (self);
  self->msg = g_object_ref (msg);
  self->handed_over = FALSE;
  g_signal_connect (msg, "wrote-body", G_CALLBACK (kith_upload_attempt_wrote_body_cb), self);
  g_free (self->timeout_reason);
  self->timeout_reason = g_strdup_printf ("no receipt within T=%" G_GUINT64_FORMAT " ms", t_ms);
  self->timer_id = g_timeout_add ((guint) MIN (t_ms, G_MAXUINT), kith_upload_attempt_timeout_cb, self);
  self->started = g_get_monotonic_time ();
  g_debug ("POST %s to %s, T=%" G_GUINT64_FORMAT " ms", self->report->name, url, t_ms);
  kith_http_request_send_async (self->context.session, msg, KITH_UPLOAD_ATTEMPT_ANSWER_MAX, self->cancellable,
                                kith_upload_attempt_post_cb, kith_upload_attempt_ref (self));
}

/* ---- the peers' offers ---- */

static gboolean
kith_upload_attempt_found_cb (gpointer user_data)
{
  KithUploadAttempt *self = user_data;
  if (!self->over)
    kith_upload_attempt_end_request (self);
  return G_SOURCE_REMOVE;
}

/* FIG. 9 (docs/architecture.md): every offer is checked before a byte is sent; a failing one is blacklisted and
 * we keep listening for others. */
static void
kith_upload_attempt_offer_cb (guint32 id, const KithTaskOffer *offer, gpointer user_data)
{
  KithUploadAttempt *self = user_data;
  g_autofree gchar *reason = NULL;
  g_autofree gchar *from = NULL;
  guint64 t_ms;

  if (self->over || self->request_id != id || self->responder != NULL)
    return;
  from = offer->from != NULL ? g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (offer->from)) : NULL;
  if (kith_upload_blacklist_contains (self->context.blacklist, offer->node, from,
                                      kith_upload_attempt_now ())) {
    g_debug ("ignoring the offer of blacklisted node %s", offer->node);
    return;
  }
  if (kith_upload_backoff_active (self->context.backoff, offer->node, g_get_monotonic_time ())) {
    g_debug ("ignoring the offer of node %s: backing off after its last fault", offer->node);
    return;
  }
  if (!kith_task_offer_verify (offer, id, self->context.anchor_pem, KITH_PEER_ROLE_UPLOAD,
                               kith_upload_attempt_now (), &reason)) {
    g_message ("refused the upload offer of %s: %s", offer->node, reason);
    self->callbacks.misbehaved (offer->node, from, reason, self->user_data);
    return;
  }
  g_clear_handle_id (&self->timer_id, g_source_remove);
  self->responder = g_strdup (offer->node);
  kith_task_broker_found (self->context.broker, id);
  /* not from inside the broker's own callback */
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, kith_upload_attempt_found_cb, kith_upload_attempt_ref (self),
                   (GDestroyNotify) kith_upload_attempt_unref);
  t_ms = kith_upload_receipt_time_ms (g_bytes_get_size (self->content), self->context.speed,
                                      (guint64) offer->interval * 1000, self->context.slack_ms);
  kith_upload_attempt_post (self, offer->alias, t_ms);
}

static gboolean
kith_upload_attempt_offer_wait_cb (gpointer user_data)
{
  KithUploadAttempt *self = user_data;
  self->timer_id = 0;
  kith_upload_attempt_fail (self, "no trusted peer offered to upload");
  return G_SOURCE_REMOVE;
}

static void
kith_upload_attempt_ask_peers (KithUploadAttempt *self)
{
  self->request_id = kith_task_broker_request (self->context.broker, "upload", self->context.upload_url,
                                               kith_upload_attempt_offer_cb, self);
  self->timer_id =
      g_timeout_add ((guint) self->context.offer_wait_ms, kith_upload_attempt_offer_wait_cb, self);
  g_debug ("asked the LAN to upload %s (request %u)", self->report->name, self->request_id);
}

void
kith_upload_attempt_start (KithUploadAttempt *self, gboolean direct)
{
  if (direct) {
    kith_upload_attempt_post (self, self->context.upload_url,
                              kith_upload_receipt_time_ms (g_bytes_get_size (self->content),
                                                           self->context.speed, 0, self->context.slack_ms));
    return;
  }
  if (self->context.broker == NULL) {
    kith_upload_attempt_fail (self, "no peering service to ask");
    return;
  }
  kith_upload_attempt_ask_peers (self);
}

KithOutboxReport *
kith_upload_attempt_get_report (KithUploadAttempt *self)
{
  return self->report;
}

const gchar *
kith_upload_attempt_get_upload_id (KithUploadAttempt *self)
{
  return self->upload_id;
}

const gchar *
kith_upload_attempt_get_responder (KithUploadAttempt *self)
{
  return self->responder;
}

const gchar *
kith_upload_attempt_get_direct_error (KithUploadAttempt *self)
{
  return self->direct_error;
}
