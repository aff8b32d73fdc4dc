/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload.h — the upload service (docs/architecture.md, "Trust", FIG. 9, claims 1–16): reports dropped into
 * the outbox reach the backend directly or through a trusted peer, and leave the outbox only
 * when a receipt signed by the backend and matching the report has arrived.
 *
 * Config [upload]:
 *   outbox=PATH            (STATE_DIR/upload/outbox) the source of truth; files whose name
 *                          starts with '.' are ignored, so write there and rename
 *   direct=BOOL            (true) try the backend itself first, unless [agent] offline
 *   serve=BOOL             (true) a connected node serves upload tasks for its LAN
 *   interval=SECONDS       (0) the upload interval it advertises as a responder
 *   max-size=BYTES         (16 MiB) largest report sent or accepted
 *   offer-wait=DURATION    (3s) how long to wait for a trusted offer per attempt
 *   retry=DURATION         (5s) first back-off after a failed attempt, doubled up to retry-max
 *   retry-max=DURATION     (5m)
 *   receipt-slack=DURATION (10s) the fixed part of the receipt time T
 *   speed=BYTES/S          (125000) assumed transmission speed until one is measured
 *   blacklist-time=DURATION (24h) how long a node stays blacklisted (proven misbehaviour)
 *   peer-backoff=DURATION  (2s) how long a responder's offers are ignored after a fault (its
 *                          connection failed, the POST timed out before the report was taken,
 *                          an HTTP error), doubled per fault in a row up to peer-backoff-max
 *   peer-backoff-max=DURATION (5m)
 *   scan=DURATION          (2s) how often the outbox is scanned
 *   read-timeout=DURATION  (60s) how long Upload(fd) may take to read its report
 *
 * State: STATE_DIR/upload/blacklist.json, STATE_DIR/upload/receipts/UPLOAD_ID.json (the
 * receipt documents of delivered reports), and the serving side's files. */
#pragma once

#include "kith-agent.h"
#include "kith-upload-blacklist.h"

G_BEGIN_DECLS

#define KITH_TYPE_UPLOAD (kith_upload_get_type ())
G_DECLARE_FINAL_TYPE (KithUpload, kith_upload, KITH, UPLOAD, GObject)

/* Reads [upload], makes the directories and starts both sides; caller owns the result. */
KithUpload *kith_upload_new (KithAgent *agent, GError **error);
/* Stops every timer and request. Idempotent. */
void kith_upload_stop (KithUpload *self);
/* Reads the report from @fd (taken: closed when done) without blocking the main loop, at
 * most max-size bytes within read-timeout, then puts it into the outbox under @name (or a
 * generated name). At most 8 run at once. */
void kith_upload_add_async (KithUpload *self, gint fd, const gchar *name, GAsyncReadyCallback callback,
                            gpointer user_data);
/* The new report's upload id (caller frees), or NULL with an error. */
gchar *kith_upload_add_finish (KithUpload *self, GAsyncResult *result, GError **error);
/* Pending reports as a(ssus): name, state ("waiting", "sending", "backoff"), attempts, last error. */
GVariant *kith_upload_get_pending (KithUpload *self);
/* Withdraws pending report @name (stopping its attempt if one is under way): removed from
 * the outbox durably, it is never sent again. KITH_UPLOAD_ERROR_NOT_PENDING when unknown. */
gboolean kith_upload_cancel (KithUpload *self, const gchar *name, GError **error);
guint64 kith_upload_get_delivered (KithUpload *self);
KithUploadBlacklist *kith_upload_get_blacklist (KithUpload *self);
/* The status section for GetStatus (a{sv}); floating. */
GVariant *kith_upload_get_status (KithUpload *self);
/* The receipt document of delivered upload @upload_id, or NULL; caller frees. */
gchar *kith_upload_get_receipt (KithUpload *self, const gchar *upload_id);

/* Signals: "delivered" (upload_id, receipt text), "blacklisted" (node, reason),
 * "changed" (pending list or counters changed). */

G_END_DECLS
