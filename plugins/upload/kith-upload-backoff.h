/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload-backoff.h — responders that failed us without proof of misbehaviour: the
 * connection failed or broke, the POST timed out before the report was taken, or the
 * responder answered an HTTP error. A fault, not a lie: the node's offers are ignored for a
 * short back-off that doubles with each fault in a row (seconds to minutes) and ends with
 * its first delivery. The blacklist (kith-upload-blacklist.h) is for proven misbehaviour.
 *
 * In memory only, and bounded: past @cap nodes the one whose back-off started first goes. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _KithUploadBackoff KithUploadBackoff;

/* First back-off @first_ms, doubled per fault up to @max_ms; at most @cap nodes. */
KithUploadBackoff *kith_upload_backoff_new (guint64 first_ms, guint64 max_ms, guint cap);
void kith_upload_backoff_free (KithUploadBackoff *self);
/* Records a fault of @node at @now (monotonic µs); returns its back-off in ms. */
guint64 kith_upload_backoff_fault (KithUploadBackoff *self, const gchar *node, gint64 now);
/* Whether @node's offers are to be ignored at @now. */
gboolean kith_upload_backoff_active (KithUploadBackoff *self, const gchar *node, gint64 now);
/* @node delivered: its faults are forgotten. */
void kith_upload_backoff_clear (KithUploadBackoff *self, const gchar *node);
/* How many nodes are remembered (for tests and status). */
guint kith_upload_backoff_get_count (KithUploadBackoff *self);
/* How many nodes are backing off at @now. */
guint kith_upload_backoff_count_active (KithUploadBackoff *self, gint64 now);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithUploadBackoff, kith_upload_backoff_free)

G_END_DECLS
