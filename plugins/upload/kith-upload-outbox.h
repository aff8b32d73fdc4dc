/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload-outbox.h — the outbox: the directory applications drop reports into, and the
 * source of truth for what is still to be delivered. A report leaves it only once delivered.
 *
 * Only regular files count. Names starting with '.' are ignored (write there, then rename);
 * a symbolic link, or anything else that is not a regular file, is refused with a message
 * (once per name) and never read: the agent may read files its callers cannot. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* One pending report and its delivery bookkeeping. */
typedef struct {
  gchar *name;
  guint attempts;
  gint64 next_try; /* monotonic µs */
  gboolean sending;
  gchar *last_error; /* why the last attempt failed: one line, bounded; NULL before any */
} KithOutboxReport;

/* the longest last error kept, in bytes */
#define KITH_OUTBOX_ERROR_MAX 200

typedef struct _KithUploadOutbox KithUploadOutbox;

/* The outbox in @dir (which must exist); reports larger than @max_size bytes are not read.
 * Caller frees. */
KithUploadOutbox *kith_upload_outbox_new (const gchar *dir, guint64 max_size);
void kith_upload_outbox_free (KithUploadOutbox *self);

/* Reads the directory: new reports join the pending list, reports whose file went away (and
 * that are not being sent) leave it. TRUE when the list changed. */
gboolean kith_upload_outbox_scan (KithUploadOutbox *self);
/* The pending reports sorted by name (borrowed KithOutboxReport*); caller unrefs. */
GPtrArray *kith_upload_outbox_list (KithUploadOutbox *self);
guint kith_upload_outbox_get_count (KithUploadOutbox *self);
/* Pending reports as a(ssus): name, state ("waiting", "sending", "backoff"), attempts and
 * last error ("" before any) at @now (monotonic µs). Floating. */
GVariant *kith_upload_outbox_to_variant (KithUploadOutbox *self, gint64 now);

/* The bytes of report @name: a regular file, never through a symbolic link, at most
 * max-size bytes; NULL with an error otherwise. */
GBytes *kith_upload_outbox_read (KithUploadOutbox *self, const gchar *name, GError **error);
/* Stores @content as a new report named @name (NULL, empty, hidden or with '/': a generated
 * name), written atomically. Returns the name used (caller frees), NULL if it exists. */
gchar *kith_upload_outbox_add (KithUploadOutbox *self, const gchar *name, GBytes *content, GError **error);
/* Removes delivered report @name: its file and its entry. */
void kith_upload_outbox_remove (KithUploadOutbox *self, const gchar *name);
/* Withdraws pending report @name: its file is unlinked and the directory synced before its
 * entry goes, so it never comes back after a crash. KITH_UPLOAD_ERROR_NOT_PENDING when no
 * such report is pending; the entry stays when the file cannot be removed. */
gboolean kith_upload_outbox_cancel (KithUploadOutbox *self, const gchar *name, GError **error);
/* Records why the last attempt at @report failed: the first line of @why, at most
 * KITH_OUTBOX_ERROR_MAX bytes (cut at a character boundary). */
void kith_upload_outbox_report_set_error (KithOutboxReport *report, const gchar *why);

/* The upload id of a report: stable over restarts for the same requester node, name and
 * content, and different for every requester (two nodes may send the same bytes under the
 * same name). 32 hex digits; caller frees. */
gchar *kith_upload_outbox_report_id (const gchar *node, const gchar *name, const gchar *sha256);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithUploadOutbox, kith_upload_outbox_free)

G_END_DECLS
