/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload-attempt.h — one attempt at one report (private to the plugin; "Trust" and
 * FIG. 9 in docs/architecture.md): direct to the backend, or through the first peer whose
 * offer passes every check; the POST, the signed receipt awaited for the receipt time T,
 * and the verdict on the responder when it does not come.
 *
 * The attempt decides nothing beyond its one try: the service keeps the outbox, the retry
 * back-off, the receipts and the counters, and hears of everything through the callbacks.
 */
#pragma once

#include "kith-agent.h"
#include "kith-upload-backoff.h"
#include "kith-upload-blacklist.h"
#include "kith-upload-outbox.h"

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* What an attempt works with; borrowed, alive while the attempt is. */
typedef struct {
  KithAgent *agent;               /* the requester's node id */
  SoupSession *session;           /* the POSTs */
  KithTaskBroker *broker;         /* NULL: no peers to ask */
  KithUploadBlacklist *blacklist; /* offers refused, and named in the POST (X-Kith-Blacklist) */
  KithUploadBackoff *backoff;     /* offers ignored */
  const gchar *anchor_pem;        /* offers and receipts are checked against it */
  const gchar *upload_url;        /* the backend's */
  guint64 offer_wait_ms;          /* how long peers have to offer */
  guint64 slack_ms;               /* the fixed part of T */
  guint64 speed;                  /* bytes/s assumed for T */
} KithUploadAttemptContext;

/* What an attempt reports; each gets the user_data given to kith_upload_attempt_new(). */
typedef struct {
  /* @node proved it misbehaves: its offer failed a check (@address its "IP:PORT": the id in
   * it is unproven), or it took the whole report and no valid receipt came (@address NULL). */
  void (*misbehaved) (const gchar *node, const gchar *address, const gchar *reason, gpointer user_data);
  /* @node failed without proof of misbehaviour: a failed or broken connection, an HTTP error,
   * T over before it took the whole report. */
  void (*fault) (const gchar *node, const gchar *why, gpointer user_data);
  /* @size bytes were posted and answered with HTTP 200 after @elapsed µs. */
  void (*sent) (gsize size, gint64 elapsed, gpointer user_data);
  /* The attempt is over: @receipt is the receipt document that passed every check (@text its
   * text, may be NULL), or NULL and @why says what failed. Nothing of the attempt runs after
   * this; its owner frees it. */
  void (*done) (GBytes *receipt, const gchar *text, const gchar *why, gpointer user_data);
} KithUploadAttemptCallbacks;

typedef struct _KithUploadAttempt KithUploadAttempt;

/* An attempt at @report (borrowed), whose bytes are @content, upload id @upload_id and hash
 * @sha256; nothing happens before kith_upload_attempt_start(). @context and @callbacks are
 * copied. */
KithUploadAttempt *kith_upload_attempt_new (const KithUploadAttemptContext *context, KithOutboxReport *report,
                                            GBytes *content, const gchar *upload_id, const gchar *sha256,
                                            const KithUploadAttemptCallbacks *callbacks, gpointer user_data);
/* Stops what the attempt does (its POST, timers, task request); no callback runs after. */
void kith_upload_attempt_free (KithUploadAttempt *self);
/* @direct: POST to the backend first, and ask the peers if it cannot be reached; else ask the
 * peers at once. "done" may run before this returns. */
void kith_upload_attempt_start (KithUploadAttempt *self, gboolean direct);

KithOutboxReport *kith_upload_attempt_get_report (KithUploadAttempt *self);
const gchar *kith_upload_attempt_get_upload_id (KithUploadAttempt *self);
/* The peer the report went through, or NULL: direct. */
const gchar *kith_upload_attempt_get_responder (KithUploadAttempt *self);
/* Why the backend could not be reached, when the peers were asked instead; else NULL. */
const gchar *kith_upload_attempt_get_direct_error (KithUploadAttempt *self);

G_END_DECLS
